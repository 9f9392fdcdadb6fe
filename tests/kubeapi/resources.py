"""The resource types the server knows, and the discovery documents built from them.

kubectl and the clients find endpoints through discovery, so every type served is declared once
here and both routing and ``/api``, ``/apis`` answers come from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class ResourceType:
    """One REST resource (a plural under a group/version)."""

    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool
    subresources: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    custom: bool = False  # CustomResourceDefinition-backed: no strategic merge patch
    categories: tuple[str, ...] = field(default=())

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """``plural.group`` as the API server names it in messages (``pods`` for the core group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


SPARK_GROUP = "sparkoperator.k8s.io"
RBAC_GROUP = "rbac.authorization.k8s.io"

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "Namespace", "namespace", False, ("status",), ("ns",)),
    ResourceType("", "v1", "nodes", "Node", "node", False, ("status",), ("no",)),
    ResourceType("", "v1", "pods", "Pod", "pod", True, ("status", "log"), ("po",), categories=("all",)),
    ResourceType("", "v1", "events", "Event", "event", True, (), ("ev",)),
    ResourceType("", "v1", "configmaps", "ConfigMap", "configmap", True, (), ("cm",)),
    ResourceType("", "v1", "services", "Service", "service", True, ("status",), ("svc",), categories=("all",)),
    # Stored as they are (no controller acts on them): what `platform render` applies for a tenant.
    ResourceType("", "v1", "serviceaccounts", "ServiceAccount", "serviceaccount", True, (), ("sa",)),
    ResourceType("", "v1", "resourcequotas", "ResourceQuota", "resourcequota", True, ("status",), ("quota",)),
    ResourceType("", "v1", "limitranges", "LimitRange", "limitrange", True, (), ("limits",)),
    ResourceType(RBAC_GROUP, "v1", "roles", "Role", "role", True),
    ResourceType(RBAC_GROUP, "v1", "rolebindings", "RoleBinding", "rolebinding", True),
    ResourceType(RBAC_GROUP, "v1", "clusterroles", "ClusterRole", "clusterrole", False),
    ResourceType(RBAC_GROUP, "v1", "clusterrolebindings", "ClusterRoleBinding", "clusterrolebinding", False),
    ResourceType("karpenter.sh", "v1", "nodepools", "NodePool", "nodepool", False, ("status",), custom=True),
    ResourceType(
        "karpenter.k8s.aws", "v1", "ec2nodeclasses", "EC2NodeClass", "ec2nodeclass", False, ("status",), custom=True
    ),
    ResourceType("scheduling.volcano.sh", "v1beta1", "queues", "Queue", "queue", False, ("status",), custom=True),
    # What `doctor` reads: the installed CRDs (the pinned SparkApplication CRD when the server has it), and
    # access reviews of the server's identity, answered from its RBAC (`KubeApiServer._review`).
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        "customresourcedefinition",
        False,
        ("status",),
        ("crd",),
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreview",
        False,
    ),
    ResourceType(
        SPARK_GROUP,
        "v1beta2",
        "sparkapplications",
        "SparkApplication",
        "sparkapplication",
        True,
        ("status",),
        ("sparkapp",),
        custom=True,
        categories=("all",),
    ),
    ResourceType(
        SPARK_GROUP,
        "v1beta2",
        "scheduledsparkapplications",
        "ScheduledSparkApplication",
        "scheduledsparkapplication",
        True,
        ("status",),
        ("scheduledsparkapp",),
        custom=True,
    ),
)

BY_PATH: dict[tuple[str, str, str], ResourceType] = {(rt.group, rt.version, rt.plural): rt for rt in RESOURCE_TYPES}
BY_PLURAL: dict[str, ResourceType] = {rt.plural: rt for rt in RESOURCE_TYPES}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    return BY_PATH.get((group, version, plural))


def _resource_entries(group: str, version: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for rt in RESOURCE_TYPES:
        if (rt.group, rt.version) != (group, version):
            continue
        entry: dict[str, Any] = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": VERBS,
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        entries.append(entry)
        for sub in rt.subresources:
            verbs = ["get"] if sub == "log" else ["get", "patch", "update"]
            # Subresources carry no short names: kubectl warns about ambiguous short names otherwise.
            entries.append(
                {
                    "name": f"{rt.plural}/{sub}",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "kind": "Pod" if sub == "log" else rt.kind,
                    "verbs": verbs,
                }
            )
    return entries


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    entries = _resource_entries(group, version)
    if not entries:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def _group_doc(group: str) -> dict[str, Any]:
    versions = sorted({rt.version for rt in RESOURCE_TYPES if rt.group == group})
    gv = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gv, "preferredVersion": gv[0]}


def api_group(group: str) -> dict[str, Any] | None:
    if not any(rt.group == group for rt in RESOURCE_TYPES if rt.group):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group)}


def api_group_list() -> dict[str, Any]:
    groups = sorted({rt.group for rt in RESOURCE_TYPES if rt.group})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group_doc(g) for g in groups]}


VERSION_INFO: dict[str, str] = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4-kubeapi-test",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_root() -> dict[str, Any]:
    """Enough of ``/openapi/v3`` for kubectl to find out that the server validates fields itself.

    kubectl looks for a ``fieldValidation`` query parameter on the PATCH operation of the kind; if
    found it sends ``fieldValidation=Strict`` instead of downloading schemas to validate locally.
    """
    gvs = sorted({(rt.group, rt.version) for rt in RESOURCE_TYPES})
    return {
        "paths": {
            _gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{_gv_path(g, v)}?hash=kubeapi{len(RESOURCE_TYPES)}"}
            for g, v in gvs
        }
    }


def openapi_v3_group_version(group: str, version: str) -> dict[str, Any] | None:
    paths: dict[str, Any] = {}
    for rt in RESOURCE_TYPES:
        if (rt.group, rt.version) != (group, version):
            continue
        prefix = f"/{_gv_path(group, version)}"
        item = (
            f"{prefix}/namespaces/{{namespace}}/{rt.plural}/{{name}}"
            if rt.namespaced
            else f"{prefix}/{rt.plural}/{{name}}"
        )
        gvk = {"group": group, "version": version, "kind": rt.kind}
        params = [
            {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for name in ("dryRun", "fieldManager", "fieldValidation", "force")
        ]
        operation = {
            "operationId": f"patch{rt.kind}",
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
            "parameters": params,
            "responses": {"200": {"description": "OK"}},
        }
        paths[item] = {"patch": operation, "put": {**operation, "x-kubernetes-action": "put"}}
        paths[item.removesuffix("/{name}")] = {"post": {**operation, "x-kubernetes-action": "post"}}
    if not paths:
        return None
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }
