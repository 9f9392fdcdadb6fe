"""Built-in objects against the official client's OpenAPI types: unknown keys, wrong types, missing
required fields, bad quantities, names and labels all fail."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_eks_data.validate.core_objects import core_object_problems


def rules(**rule: Any) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "r", "namespace": "lake"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], **rule}],
    }


def problems(manifest: Any) -> dict[str, str]:
    return {p.path: p.rule for p in core_object_problems(manifest)}


def test_a_valid_role_passes() -> None:
    assert core_object_problems(rules()) == []


def test_unknown_key_wrong_type_and_missing_required_field() -> None:
    role = rules(resourceNamez=["x"])
    role["rules"][0]["verbs"] = "get"
    assert "unknown field" in problems(role)["rules[0].resourceNamez"]
    assert problems(role)["rules[0].verbs"] == "core-object: must be a list of str"
    del role["rules"][0]["verbs"]
    assert problems(role)["rules[0].verbs"] == "core-object: required"
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "b", "namespace": "lake"},
    }
    assert problems(binding) == {"roleRef": "core-object: required"}


@pytest.mark.parametrize(("value", "ok"), [("4Gi", True), ("500m", True), (3, True), ("4 GB", False), (True, False)])
def test_quantities(value: Any, ok: bool) -> None:
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "q", "namespace": "lake"},
        "spec": {"hard": {"requests.memory": value}},
    }
    assert (problems(quota) == {}) is ok


def test_names_namespaces_and_labels() -> None:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "Lake", "namespace": "x", "labels": {"a/b/c": "v"}},
    }
    found = problems(namespace)
    assert "DNS label" in found["metadata.name"]
    assert "cluster-scoped" in found["metadata.namespace"]
    assert "label key" in found["metadata.labels[a/b/c]"]
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}
    assert "a namespace" in problems(account)["metadata.namespace"]


def test_unknown_kinds_are_refused() -> None:
    assert "not a built-in kind" in problems({"apiVersion": "v1", "kind": "Role", "metadata": {"name": "x"}})["kind"]
    assert "not a built-in kind" in problems({"apiVersion": "karpenter.sh/v1", "kind": "NodePool"})["kind"]
    assert "a mapping" in problems(["not", "a", "manifest"])["<root>"]
