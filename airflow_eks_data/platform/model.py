"""What `platform render` produces: manifests, each with the notes a person applying it must read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MANAGED_BY = {"app.kubernetes.io/managed-by": "airflow-eks-data"}
"""On every rendered object: `kubectl get ... -l app.kubernetes.io/managed-by=airflow-eks-data` finds them."""


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object, and what it cannot say itself (an association to create, a caveat)."""

    body: dict[str, Any]
    notes: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        namespace = self.body["metadata"].get("namespace")
        return None if namespace is None else str(namespace)


@dataclass(frozen=True)
class PlatformRendering:
    """Everything rendered for some of a profile's tenants, in the order to apply it."""

    profile: str
    tenants: tuple[str, ...]
    manifests: tuple[Manifest, ...]
    notes: tuple[str, ...] = field(default=())

    def documents(self) -> list[dict[str, Any]]:
        return [manifest.body for manifest in self.manifests]

    def all_notes(self) -> list[str]:
        return [*self.notes, *(note for manifest in self.manifests for note in manifest.notes)]


def metadata(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = {**(labels or {}), **MANAGED_BY}
    return meta
