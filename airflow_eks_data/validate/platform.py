"""Check `platform render` output before anyone applies it: built-in objects against the official
client's OpenAPI types, Karpenter's against their pinned CRDs (OpenAPI schema; CEL rules aside)."""

from __future__ import annotations

from pathlib import Path

from airflow_eks_data.errors import Problem
from airflow_eks_data.platform.model import PlatformRendering
from airflow_eks_data.validate.core_objects import KINDS, core_object_problems
from airflow_eks_data.validate.crd import crd_problems

KARPENTER_CRDS = {
    ("karpenter.sh/v1", "NodePool"): "karpenter.sh_nodepools.yaml",
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): "karpenter.k8s.aws_ec2nodeclasses.yaml",
}
"""The CRD file of each Karpenter kind, as Karpenter publishes them (`pkg/apis/crds/`)."""


def platform_problems(rendering: PlatformRendering, karpenter_crds: str | Path | None = None) -> list[Problem]:
    """Every problem of every rendered object, its path prefixed with `Kind/namespace/name`."""
    problems: list[Problem] = []
    directory = Path(karpenter_crds) if karpenter_crds else None
    if directory is not None:
        missing = [name for name in KARPENTER_CRDS.values() if not (directory / name).is_file()]
        if missing:
            return [Problem("--karpenter-crds", str(directory), f"no {', '.join(missing)} in this directory")]
    for manifest in rendering.manifests:
        body = manifest.body
        key = (body.get("apiVersion"), body.get("kind"))
        if key[0] in KINDS:
            found = core_object_problems(body)
        elif key in KARPENTER_CRDS and directory is not None:
            found = crd_problems(body, directory / KARPENTER_CRDS[key], version="v1")
        else:
            continue
        where = "/".join(part for part in (manifest.kind, manifest.namespace, manifest.name) if part)
        problems += [Problem(f"{where}.{p.path}" if p.path else where, p.value, p.rule) for p in found]
    return problems
