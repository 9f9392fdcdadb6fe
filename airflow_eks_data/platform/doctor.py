"""`airflow-eks-data doctor`: does the cluster (and AWS) match what a profile's jobs will need?

Pure: each check takes what the hooks read (access reviews, the CRD, the NodePools, the virtual
cluster, the application) and says pass or fail, with the fix. Reading is `hooks/cluster.py`'s job.
A NodePool admits a role's pods when, for every node requirement the pods carry, the pool's
requirements leave some value open (Karpenter's own defaults included: a pool that says nothing of
capacity type launches on-demand only, nothing of architecture amd64 only), and the pods tolerate
every taint of the pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from airflow_eks_data.jobspec.profile import PlatformProfile, RolePlacement, Tenant
from airflow_eks_data.platform.rbac import SUBMITTER_ROLE, SUBMITTER_RULES
from airflow_eks_data.render.pod_template import ARCH_KEY, CAPACITY_KEY, NODEPOOL_KEY, NVME_KEY
from airflow_eks_data.render.spark_application import API_VERSION

CRD_NAME = f"sparkapplications.{API_VERSION.partition('/')[0]}"
KARPENTER_DEFAULTS = {CAPACITY_KEY: {"on-demand"}, ARCH_KEY: {"amd64"}}
"""What Karpenter launches when a NodePool does not constrain the key."""
DOCTOR_RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get"]},
    {"apiGroups": ["karpenter.sh"], "resources": ["nodepools"], "verbs": ["list"]},
)
"""Cluster-wide reads `doctor` makes besides the access reviews (which any identity may ask): not part of
the submitter's Role, which needs neither."""
QUEUE_WARN = 0.9
"""A virtual cluster's queue this full fails the check: the next burst will be refused."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f" -> {self.fix}" if self.fix and not self.ok else ""
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}{fix}"


def doctor_rules_text() -> str:
    return "; ".join(f"{'/'.join(r['verbs'])} {r['resources'][0]}.{r['apiGroups'][0]}" for r in DOCTOR_RULES)


class Access(NamedTuple):
    """One question for a SelfSubjectAccessReview."""

    verb: str
    group: str
    resource: str
    subresource: str = ""

    def __str__(self) -> str:
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{self.verb} {resource}" + (f".{self.group}" if self.group else "")


def submitter_access() -> list[Access]:
    """Every call the Spark Operator backend makes in a tenant namespace (`platform.rbac`)."""
    asked = []
    for rule in SUBMITTER_RULES:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                plural, _, sub = resource.partition("/")
                asked += [Access(verb, group, plural, sub) for verb in rule["verbs"]]
    return asked


def access_check(tenant: str, namespace: str, answers: Mapping[Access, bool]) -> Check:
    denied = [str(access) for access, allowed in answers.items() if not allowed]
    name = f"{tenant}: Airflow's access in namespace {namespace}"
    if not denied:
        return Check(name, True, f"{len(answers)} of {len(answers)} calls of the Spark Operator backend allowed")
    return Check(
        name,
        False,
        f"denied: {', '.join(denied)}",
        f"apply Role {SUBMITTER_ROLE} and its RoleBinding from `airflow-eks-data platform render PROFILE "
        f"--tenant {tenant}` (bound to the identity of the Kubernetes connection)",
    )


def crd_check(crd: Mapping[str, Any] | None) -> Check:
    name = "Spark Operator CRD"
    install = "install the kubeflow Spark Operator (Helm chart spark-operator >= 2.0, CRDs included)"
    if crd is None:
        return Check(name, False, f"{CRD_NAME} is not installed", install)
    versions = [v for v in crd.get("spec", {}).get("versions", []) if v.get("served")]
    wanted = API_VERSION.partition("/")[2]
    served = next((v for v in versions if v.get("name") == wanted), None)
    meta = crd.get("metadata", {})
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    release = labels.get("app.kubernetes.io/version") or labels.get("helm.sh/chart")
    made_by = annotations.get("controller-gen.kubebuilder.io/version")
    about = ", ".join(x for x in (release and f"release {release}", made_by and f"controller-gen {made_by}") if x)
    if served is None:
        found = ", ".join(v.get("name", "?") for v in versions) or "none"
        return Check(name, False, f"{CRD_NAME} serves {found}, not {wanted}", install)
    spec = (served.get("schema") or {}).get("openAPIV3Schema", {}).get("properties", {}).get("spec", {})
    driver = spec.get("properties", {}).get("driver", {}).get("properties", {})
    if "template" not in driver:
        return Check(name, False, f"{wanted} has no driver.template: pod templates need Spark Operator >= 2.0", install)
    return Check(name, True, f"{CRD_NAME} serves {wanted} with pod templates" + (f" ({about})" if about else ""))


class Requirement(NamedTuple):
    key: str
    operator: str
    values: frozenset[str]


def pod_requirements(profile: PlatformProfile, tenant: Tenant, role: str) -> list[Requirement]:
    """The node requirements a tenant's driver or executor pods carry, as the pod template renders them."""
    placement: RolePlacement = profile.placement.driver if role == "driver" else profile.placement.executor
    capacity = (tenant.pinned.capacity if role == "executor" else None) or placement.capacity
    arch = tenant.arch or profile.arch or placement.arch or "amd64"
    wanted = [Requirement(ARCH_KEY, "In", frozenset({arch}))]
    if capacity:
        wanted.append(Requirement(CAPACITY_KEY, "In", frozenset({capacity})))
    nvme = placement.min_local_nvme_gb
    if nvme is None and profile.local_storage.nvme is not None and role in profile.local_storage.nvme.roles:
        nvme = 0
    if nvme is not None:
        wanted.append(Requirement(NVME_KEY, "Gt", frozenset({str(nvme)})))
    if placement.node_pool:
        wanted.append(Requirement(NODEPOOL_KEY, "In", frozenset({placement.node_pool})))
    wanted += [Requirement(key, "In", frozenset({value})) for key, value in placement.node_selector.items()]
    return wanted


def refusal(pool: Mapping[str, Any], wanted: list[Requirement], tolerations: list[dict[str, Any]]) -> str | None:
    """Why `pool` cannot launch a node for pods with these requirements, or None if it can."""
    name = str(pool.get("metadata", {}).get("name"))
    template = pool.get("spec", {}).get("template", {})
    spec = template.get("spec", {})
    labels = {**(template.get("metadata") or {}).get("labels", {}), NODEPOOL_KEY: name}
    offered: dict[str, list[dict[str, Any]]] = {}
    for requirement in spec.get("requirements") or []:
        offered.setdefault(requirement["key"], []).append(requirement)
    for key, operator, values in wanted:
        if key in labels:
            if operator == "In" and labels[key] not in values:
                return f"its nodes carry {key}={labels[key]}"
            continue
        if not _open(offered.get(key), KARPENTER_DEFAULTS.get(key), operator, values):
            return f"no {key} {operator} {','.join(sorted(values))}"
    for taint in spec.get("taints") or []:
        if not any(_tolerates(toleration, taint) for toleration in tolerations):
            return f"taint {taint.get('key')}={taint.get('value', '')}:{taint.get('effect')} is not tolerated"
    return None


def _open(rules: list[dict[str, Any]] | None, default: set[str] | None, operator: str, values: frozenset[str]) -> bool:
    """Whether some value the pod accepts survives every rule the pool has for the key."""
    if not rules:
        return default is None or (operator == "In" and bool(values & default))
    if operator == "Gt":
        least = int(next(iter(values)))
        return all(_admits_above(rule, least) for rule in rules)
    return any(all(_allows(rule, value) for rule in rules) for value in values)


def _allows(rule: dict[str, Any], value: str) -> bool:
    operator, values = rule.get("operator"), rule.get("values") or []
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    if operator == "DoesNotExist":
        return False
    if operator in ("Gt", "Lt") and value.isdigit():
        bound = int(values[0])
        return int(value) > bound if operator == "Gt" else int(value) < bound
    return True  # Exists


def _admits_above(rule: dict[str, Any], least: int) -> bool:
    operator, values = rule.get("operator"), rule.get("values") or []
    if operator == "Lt":
        return int(values[0]) - 1 > least
    if operator == "In":
        return any(value.isdigit() and int(value) > least for value in values)
    return operator != "DoesNotExist"


def _tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    if toleration.get("operator") == "Exists":
        return toleration.get("key") in (None, taint.get("key"))
    return toleration.get("key") == taint.get("key") and toleration.get("value") == taint.get("value")


def node_pool_check(profile: PlatformProfile, tenant_name: str, role: str, pools: list[dict[str, Any]] | None) -> Check:
    tenant = profile.tenants[tenant_name]
    wanted = pod_requirements(profile, tenant, role)
    asked = ", ".join(f"{key} {op} {','.join(sorted(values))}" for key, op, values in wanted)
    name = f"{tenant_name}: NodePool for {role} pods"
    render = f"apply the NodePools of `airflow-eks-data platform render PROFILE --tenant {tenant_name}`"
    if pools is None:
        return Check(
            name, False, "no NodePool API (karpenter.sh/v1) in the cluster", "install Karpenter v1, then " + render
        )
    placement = profile.placement.driver if role == "driver" else profile.placement.executor
    tolerations = [t.model_dump(exclude_none=True) for t in placement.tolerations]
    reasons = {str(pool["metadata"]["name"]): refusal(pool, wanted, tolerations) for pool in pools}
    fits = sorted(pool for pool, reason in reasons.items() if reason is None)
    if fits:
        return Check(name, True, f"{', '.join(fits)} admit {asked}")
    why = "; ".join(f"{pool}: {reason}" for pool, reason in sorted(reasons.items())) or "there are no NodePools"
    return Check(name, False, f"none admits {asked} ({why})", render)


def virtual_cluster_check(tenant: str, cluster_id: str, cluster: Mapping[str, Any] | None) -> Check:
    name = f"{tenant}: EMR virtual cluster {cluster_id}"
    if cluster is None:
        return Check(name, False, "not found", f"create it for the tenant's namespace, or fix tenants.{tenant}.emr")
    state = cluster.get("state")
    if state != "RUNNING":
        return Check(
            name, False, f"state {state}", "a virtual cluster that is not RUNNING takes no jobs: create a new one"
        )
    config, status = cluster.get("schedulerConfiguration") or {}, cluster.get("schedulerStatus") or {}
    if not config:
        return Check(name, True, "RUNNING, no job queueing (schedulerConfiguration unset)")
    queued, queue = status.get("currentInQueueJobRuns", 0), config.get("maxInQueueJobRuns")
    running, slots = status.get("currentConcurrentJobRuns", 0), config.get("maxConcurrentJobRuns")
    detail = f"RUNNING, {running} of {slots or 'unlimited'} running, {queued} of {queue or 'unlimited'} queued"
    if queue and queued >= QUEUE_WARN * queue:
        return Check(
            name,
            False,
            detail + ": StartJobRun will be refused (jobs wait and retry)",
            "raise maxInQueueJobRuns / maxConcurrentJobRuns (UpdateVirtualCluster) or spread tenants",
        )
    return Check(name, True, detail)


def application_check(
    tenant: str, application_id: str, application: Mapping[str, Any] | None, release: str | None
) -> Check:
    name = f"{tenant}: EMR Serverless application {application_id}"
    if application is None:
        return Check(name, False, "not found", f"create it, or fix tenants.{tenant}.emr_serverless.application_id")
    state, label = application.get("state"), application.get("releaseLabel")
    if state in ("TERMINATED", "STOPPING"):
        return Check(name, False, f"state {state}", "a terminated application takes no jobs: create a new one")
    if release and label != release:
        return Check(name, False, f"runs {label}, the profile expects {release}", "align emr_serverless.release_label")
    start = "" if state == "STARTED" else " (jobs start it before submitting)"
    return Check(name, True, f"{state}, {label}{start}")
