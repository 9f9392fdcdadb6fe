"""Validate a SparkApplication against the CRD's OpenAPI schema, as an API server with strict field
validation would (unknown fields are errors, not silently pruned)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from airflow_eks_data.errors import Problem, SpecError, format_path


def crd_problems(manifest: dict[str, Any], crd_path: str | Path, version: str = "v1beta2") -> list[Problem]:
    """Every schema violation of `manifest` against one `version` of the CRD, one `Problem` each."""
    validator = _validator(str(crd_path), version)
    problems = []
    for error in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(Problem(format_path(error.absolute_path), error.instance, f"crd-schema: {error.message}"))
    return problems


@functools.lru_cache(maxsize=8)
def _validator(crd_path: str, version: str) -> Any:
    from jsonschema import Draft7Validator

    schema = strict_schema(load_crd_schema(crd_path, version))
    return Draft7Validator(schema)


def load_crd_schema(crd_path: str | Path, version: str = "v1beta2") -> dict[str, Any]:
    """The `openAPIV3Schema` of one version of a CRD file (the file may hold several documents)."""
    try:
        documents = list(yaml.safe_load_all(Path(crd_path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError([Problem("--crd", str(crd_path), f"cannot read CRD: {exc}")]) from None
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
            for entry in document["spec"]["versions"]:
                if entry["name"] == version:
                    return dict(entry["schema"]["openAPIV3Schema"])
    raise SpecError([Problem("--crd", str(crd_path), f"no CustomResourceDefinition with version {version}")])


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy where objects with declared properties refuse others, unless the CRD preserves unknown fields."""
    schema = copy.deepcopy(schema)
    _tighten(schema, top=True)
    return schema


def _tighten(node: Any, top: bool = False) -> None:
    if isinstance(node, list):
        for item in node:
            _tighten(item)
        return
    if not isinstance(node, dict):
        return
    if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields") and not top:
        node.setdefault("additionalProperties", False)
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            for child in value.values():
                _tighten(child)
        elif isinstance(value, dict | list):
            _tighten(value)
