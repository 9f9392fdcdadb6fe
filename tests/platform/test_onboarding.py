"""What `platform render` gives each tenant, and that every object is one the API server accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.platform import render_platform
from airflow_eks_data.platform.model import MANAGED_BY, Manifest
from airflow_eks_data.platform.onboarding import IRSA_ANNOTATION
from airflow_eks_data.platform.rbac import DRIVER_ROLE, SUBMITTER_ROLE, SUBMITTER_RULES
from airflow_eks_data.render.pod_template import TENANT_LABEL
from airflow_eks_data.validate.platform import platform_problems
from tests.platform.conftest import ROLE_ARN, ProfileFactory

SHARED = ("ClusterRole", "ClusterRoleBinding", "EC2NodeClass", "NodePool")
TENANT_KINDS = [
    ("Namespace", None),
    ("ServiceAccount", "spark-{}"),
    ("Role", SUBMITTER_ROLE),
    ("RoleBinding", SUBMITTER_ROLE),
    ("Role", DRIVER_ROLE),
    ("RoleBinding", DRIVER_ROLE),
    ("ResourceQuota", "spark-applications"),
]


def find(manifests: tuple[Manifest, ...], kind: str, name: str, namespace: str | None = None) -> Manifest:
    return next(m for m in manifests if (m.kind, m.name, m.namespace) == (kind, name, namespace))


def test_every_tenant_gets_its_objects_in_apply_order(profile: PlatformProfile) -> None:
    rendering = render_platform(profile)
    assert rendering.tenants == ("datalake", "analytics")
    datalake = [(m.kind, m.name) for m in rendering.manifests if m.namespace == "datalake" or m.name == "datalake"]
    assert datalake == [(kind, (name or "{}").format("datalake")) for kind, name in TENANT_KINDS]
    kinds = [m.kind for m in rendering.manifests]
    # The evidence ClusterRole first; each namespace before the objects inside it.
    assert kinds[:2] == ["ClusterRole", "ClusterRoleBinding"]
    for tenant in ("datalake", "analytics"):
        first = next(i for i, m in enumerate(rendering.manifests) if m.namespace == tenant)
        assert rendering.manifests[first - 1].kind == "Namespace" and rendering.manifests[first - 1].name == tenant
    assert all(m.body["metadata"]["labels"].items() >= MANAGED_BY.items() for m in rendering.manifests)


def test_without_a_karpenter_section_no_node_objects_and_a_note(profile: PlatformProfile) -> None:
    rendering = render_platform(profile)
    assert not {"NodePool", "EC2NodeClass"} & {m.kind for m in rendering.manifests}
    assert any("no karpenter section" in note for note in rendering.notes)


def test_namespace_carries_the_tenant_label_and_pinned_labels(profile: PlatformProfile) -> None:
    rendering = render_platform(profile)
    labels = find(rendering.manifests, "Namespace", "analytics").body["metadata"]["labels"]
    assert labels[TENANT_LABEL] == "analytics"
    assert labels["team"] == "analytics"  # pinned for every pod of the tenant
    assert "team" not in find(rendering.manifests, "Namespace", "datalake").body["metadata"]["labels"]


def test_irsa_annotation_and_pod_identity_note(full_profile: PlatformProfile) -> None:
    rendering = render_platform(full_profile)
    irsa = find(rendering.manifests, "ServiceAccount", "spark-datalake", "datalake")
    assert irsa.body["metadata"]["annotations"] == {IRSA_ANNOTATION: ROLE_ARN.format("datalake")}
    assert irsa.notes == ()
    pod_identity = find(rendering.manifests, "ServiceAccount", "spark-analytics", "analytics")
    assert "annotations" not in pod_identity.body["metadata"]
    (note,) = pod_identity.notes
    assert "EKS Pod Identity" in note and ROLE_ARN.format("analytics") in note
    assert "create-pod-identity-association --namespace analytics --service-account spark-analytics" in note


def test_a_tenant_without_a_role_is_noted(profile: PlatformProfile) -> None:
    account = find(render_platform(profile).manifests, "ServiceAccount", "spark-datalake", "datalake")
    assert "annotations" not in account.body["metadata"]
    assert "no iam_role_arn" in account.notes[0]


def test_roles_bind_airflow_and_the_driver(make_profile: ProfileFactory) -> None:
    def airflow_in_cluster(data: dict[str, Any]) -> None:
        data["submitters"] = [
            {"kind": "ServiceAccount", "name": "airflow-worker", "namespace": "airflow"},
            {"kind": "Group", "name": "lake-airflow"},
        ]

    manifests = render_platform(make_profile(airflow_in_cluster), "datalake").manifests
    submitter = find(manifests, "RoleBinding", SUBMITTER_ROLE, "datalake").body
    assert submitter["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SUBMITTER_ROLE}
    assert submitter["subjects"] == [
        {"kind": "ServiceAccount", "name": "airflow-worker", "namespace": "airflow"},
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "lake-airflow"},
    ]
    assert find(manifests, "Role", SUBMITTER_ROLE, "datalake").body["rules"] == list(SUBMITTER_RULES)
    driver = find(manifests, "RoleBinding", DRIVER_ROLE, "datalake").body
    assert driver["subjects"] == [{"kind": "ServiceAccount", "name": "spark-datalake", "namespace": "datalake"}]
    evidence = find(manifests, "ClusterRoleBinding", "airflow-spark-evidence").body
    assert evidence["subjects"] == submitter["subjects"]


def test_ebs_shuffle_lets_the_driver_manage_claims(make_profile: ProfileFactory) -> None:
    def ebs(data: dict[str, Any]) -> None:
        data["local_storage"]["ebs"] = {"storage_class": "gp3", "size": "200g"}

    manifests = render_platform(make_profile(ebs), "datalake").manifests
    rules = find(manifests, "Role", DRIVER_ROLE, "datalake").body["rules"]
    assert {
        "apiGroups": [""],
        "resources": ["persistentvolumeclaims"],
        "verbs": ["get", "list", "create", "delete", "deletecollection"],
    } in rules
    hard = find(manifests, "ResourceQuota", "spark-applications", "datalake").body["spec"]["hard"]
    assert (hard["persistentvolumeclaims"], hard["requests.storage"]) == ("200", "40000Gi")
    without = render_platform(make_profile(), "datalake").manifests
    assert "persistentvolumeclaims" not in str(find(without, "Role", DRIVER_ROLE, "datalake").body)


def test_one_tenant_gets_the_same_shared_objects(full_profile: PlatformProfile) -> None:
    everything = render_platform(full_profile)
    shared = [m.body for m in everything.manifests if m.kind in SHARED]
    for tenant in full_profile.tenants:
        alone = render_platform(full_profile, tenant)
        assert alone.tenants == (tenant,)
        assert [m.body for m in alone.manifests if m.kind in SHARED] == shared
        assert {m.namespace for m in alone.manifests} == {None, full_profile.tenants[tenant].namespace}


def test_unknown_tenant_and_no_tenants_are_spec_errors(make_profile: ProfileFactory, profile: PlatformProfile) -> None:
    with pytest.raises(
        SpecError, match=r"tenant: 'nope': unknown-tenant: profile 'compaction' has analytics, datalake"
    ):
        render_platform(profile, "nope")

    def no_tenants(data: dict[str, Any]) -> None:
        data["tenants"] = {}

    with pytest.raises(SpecError, match="no-tenants"):
        render_platform(make_profile(no_tenants))


def test_every_object_validates(full_profile: PlatformProfile, profile: PlatformProfile, karpenter_crds: Path) -> None:
    """Built-in kinds against the official client's OpenAPI types, Karpenter's against the pinned CRDs."""
    for candidate in (profile, full_profile):
        rendering = render_platform(candidate)
        assert platform_problems(rendering, karpenter_crds) == []
    kinds = {m.kind for m in render_platform(full_profile).manifests}
    assert {"NodePool", "EC2NodeClass", "LimitRange", "ResourceQuota"} <= kinds


def test_validation_catches_a_broken_object(full_profile: PlatformProfile, karpenter_crds: Path) -> None:
    rendering = render_platform(full_profile)
    role = find(rendering.manifests, "Role", SUBMITTER_ROLE, "datalake").body
    role["rules"][0]["verb"] = role["rules"][0].pop("verbs")
    pool = next(m for m in rendering.manifests if m.kind == "NodePool").body
    pool["spec"]["disruption"]["consolidationPolicy"] = "Never"
    problems = {p.path: p.rule for p in platform_problems(rendering, karpenter_crds)}
    assert "unknown field" in problems[f"Role/datalake/{SUBMITTER_ROLE}.rules[0].verb"]
    assert problems[f"Role/datalake/{SUBMITTER_ROLE}.rules[0].verbs"] == "core-object: required"
    assert "is not one of" in problems[f"NodePool/{pool['metadata']['name']}.spec.disruption.consolidationPolicy"]


def test_a_directory_without_the_crds_is_an_error(full_profile: PlatformProfile, tmp_path: Path) -> None:
    (problem,) = platform_problems(render_platform(full_profile), tmp_path)
    assert problem.path == "--karpenter-crds" and "karpenter.sh_nodepools.yaml" in problem.rule
