"""Kubernetes RBAC for the test server: its one identity (whoever holds its token) may do what the Roles
and ClusterRoles bound in a set of manifests allow, and gets ``403 Forbidden`` otherwise.

Load it from the YAML a cluster admin would apply (``Rbac.load(path)``) and start the server with
``KubeApiServer(rbac=...)``. Bindings' subjects are not matched: every binding applies to the server's
identity. As in Kubernetes, a RoleBinding grants its rules in its own namespace (even from a
ClusterRole), a ClusterRoleBinding grants them everywhere, and only the latter grants cluster-scoped
resources or requests across all namespaces. Discovery (``/api``, ``/apis``, ``/version``) is allowed,
as for any authenticated user.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.kubeapi.errors import ApiError
from tests.kubeapi.handlers import Target

ANY = "*"


@dataclass(frozen=True)
class Request:
    """What a request asks for, in RBAC's terms."""

    verb: str
    group: str
    resource: str  # plural, or plural/subresource
    namespace: str | None  # None: cluster-scoped, or across all namespaces
    name: str | None

    @classmethod
    def of(cls, verb: str, target: Target) -> Request:
        namespace = target.namespace if target.rtype.namespaced else None
        return cls(verb, target.rtype.group, target.resource, namespace, target.name)


@dataclass(frozen=True)
class Rule:
    """One PolicyRule."""

    api_groups: frozenset[str]
    resources: frozenset[str]
    verbs: frozenset[str]
    resource_names: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, rule: dict[str, Any]) -> Rule:
        return cls(
            frozenset(rule.get("apiGroups") or ()),
            frozenset(rule.get("resources") or ()),
            frozenset(rule.get("verbs") or ()),
            frozenset(rule.get("resourceNames") or ()),
        )

    def allows(self, request: Request) -> bool:
        plural, _, sub = request.resource.partition("/")
        resource_ok = bool(
            self.resources & {ANY, request.resource} or (sub and self.resources & {f"{plural}/*", f"*/{sub}"})
        )
        return (
            bool(self.api_groups & {ANY, request.group})
            and resource_ok
            and bool(self.verbs & {ANY, request.verb})
            and (not self.resource_names or request.name in self.resource_names)
        )

    def permissions(self) -> set[tuple[str, str, str]]:
        """Every (group, resource, verb) this rule names, for checking that each one is used."""
        return {(g, r, v) for g in self.api_groups for r in self.resources for v in self.verbs}


@dataclass(frozen=True)
class Grant:
    """Rules that apply in one namespace (None: everywhere, cluster-scoped resources included)."""

    namespace: str | None
    rules: tuple[Rule, ...]

    def covers(self, request: Request) -> bool:
        return self.namespace is None or (request.namespace is not None and request.namespace == self.namespace)


class Rbac:
    """The grants of one identity; records what it allowed and what it refused."""

    def __init__(self, grants: Iterable[Grant], user: str = "kubeapi-test") -> None:
        self.grants = tuple(grants)
        self.user = user
        self._lock = threading.Lock()
        self.allowed: list[Request] = []
        self.denied: list[Request] = []

    @classmethod
    def load(cls, path: str | Path) -> Rbac:
        return cls.from_documents(yaml.safe_load_all(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_documents(cls, documents: Iterable[Any]) -> Rbac:
        docs = [doc for doc in documents if isinstance(doc, dict)]
        roles = {
            (doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"]): tuple(
                Rule.parse(rule) for rule in doc.get("rules") or ()
            )
            for doc in docs
            if doc.get("kind") in ("Role", "ClusterRole")
        }
        grants: list[Grant] = []
        user = "kubeapi-test"
        for doc in docs:
            kind = doc.get("kind")
            if kind not in ("RoleBinding", "ClusterRoleBinding"):
                continue
            ref = doc["roleRef"]
            namespace = doc["metadata"].get("namespace") if kind == "RoleBinding" else None
            role_namespace = namespace if ref["kind"] == "Role" else None
            rules = roles.get((ref["kind"], role_namespace, ref["name"]))
            if rules is None:
                raise ValueError(f"{kind} {doc['metadata']['name']} refers to a missing {ref['kind']} {ref['name']}")
            grants.append(Grant(namespace, rules))
            user = _subject_name((doc.get("subjects") or [{}])[0]) or user
        return cls(grants, user)

    def allows(self, request: Request) -> bool:
        """Whether a grant allows it; not recorded (what a SelfSubjectAccessReview answers)."""
        return any(grant.covers(request) and any(rule.allows(request) for rule in grant.rules) for grant in self.grants)

    def check(self, verb: str, target: Target) -> None:
        """Raise the API server's 403 unless a grant allows this request."""
        request = Request.of(verb, target)
        allowed = self.allows(request)
        with self._lock:
            (self.allowed if allowed else self.denied).append(request)
        if not allowed:
            raise forbidden(request, self.user)

    def unused(self) -> set[tuple[str, str, str]]:
        """(group, resource, verb) the grants name but no allowed request needed."""
        named = {p for grant in self.grants for rule in grant.rules for p in rule.permissions()}
        with self._lock:
            used = {
                p
                for request in self.allowed
                for grant in self.grants
                if grant.covers(request)
                for rule in grant.rules
                if rule.allows(request)
                for p in rule.permissions()
                if p[0] in (request.group, ANY) and p[1] in (request.resource, ANY) and p[2] in (request.verb, ANY)
            }
        return named - used


def _subject_name(subject: dict[str, Any]) -> str | None:
    if subject.get("kind") == "ServiceAccount":
        return f"system:serviceaccount:{subject.get('namespace', 'default')}:{subject.get('name')}"
    return subject.get("name")


def forbidden(request: Request, user: str) -> ApiError:
    """The Status a real API server returns, message and details included."""
    qualified = f"{request.resource.split('/')[0]}.{request.group}" if request.group else request.resource.split("/")[0]
    subject = f'{qualified} "{request.name}"' if request.name else qualified
    scope = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{user}" cannot {request.verb} resource "{request.resource}" '
        f'in API group "{request.group}" {scope}'
    )
    details = {"group": request.group, "kind": request.resource.split("/")[0]}
    if request.name:
        details["name"] = request.name
    return ApiError(403, message, details=details)
