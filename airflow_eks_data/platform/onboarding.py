"""What one tenant needs in the cluster, from the same profile its jobs are checked against.

Per tenant: its Namespace (labelled as its pods are), the ServiceAccount its drivers and executors run
as (with its IRSA role, or a note for EKS Pod Identity), the Role Airflow submits with and the Role
Spark's driver needs (`rbac`), a ResourceQuota and LimitRange from its caps (`quotas`), and its
batch-scheduler queue (`scheduling`). Shared by all tenants of the profile: the optional evidence
ClusterRole and the Karpenter node class and NodePools (`karpenter`). Shared objects come out the same
whichever tenants are asked for, so applying several tenants' output one after another is safe.
"""

from __future__ import annotations

from typing import Any

from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.jobspec.names import is_templated
from airflow_eks_data.jobspec.profile import PlatformProfile, Tenant
from airflow_eks_data.platform import rbac
from airflow_eks_data.platform.karpenter import karpenter_manifests
from airflow_eks_data.platform.model import Manifest, PlatformRendering, metadata
from airflow_eks_data.platform.quotas import (
    LIMIT_RANGE_NAME,
    QUOTA_NAME,
    container_limits,
    cpu_quantity,
    footprint,
    memory_quantity,
    resource_quota,
)
from airflow_eks_data.platform.scheduling import queue_manifests, tenant_scheduler
from airflow_eks_data.render.pod_template import TENANT_LABEL

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def render_platform(profile: PlatformProfile, tenant: str | None = None) -> PlatformRendering:
    """Everything the profile's tenants (or the one named) need, in the order to apply it."""
    if not profile.tenants:
        raise SpecError([Problem("tenants", {}, f"no-tenants: profile {profile.name!r} has no tenants to render")])
    if tenant is not None and tenant not in profile.tenants:
        known = ", ".join(sorted(profile.tenants))
        raise SpecError([Problem("tenant", tenant, f"unknown-tenant: profile {profile.name!r} has {known}")])
    names = [tenant] if tenant else list(profile.tenants)
    manifests = [Manifest(body) for body in rbac.evidence_objects(profile.submitters)]
    manifests += karpenter_manifests(profile)
    for name in names:
        manifests += tenant_manifests(profile, name)
    manifests += queue_manifests(profile, names)
    notes = []
    if profile.karpenter is None:
        notes.append(
            f"profile {profile.name} has no karpenter section: no EC2NodeClass or NodePools rendered "
            "(give karpenter.node_role, subnet_tags and security_group_tags)"
        )
    return PlatformRendering(profile.name, tuple(names), tuple(manifests), tuple(notes))


def tenant_manifests(profile: PlatformProfile, name: str) -> list[Manifest]:
    """The tenant's own objects: namespace, identity, RBAC, quota and limits."""
    tenant = profile.tenants[name]
    namespace, owner = tenant.namespace, {TENANT_LABEL: name}
    submitters = rbac.subject_list(profile.submitters)
    driver = [{"kind": "ServiceAccount", "name": tenant.service_account, "namespace": namespace}]
    driver_rules = rbac.DRIVER_RULES + ((rbac.EBS_DRIVER_RULE,) if profile.local_storage.ebs else ())
    manifests = [
        Manifest(_namespace(name, tenant), _priority_notes(profile, tenant)),
        _service_account(name, tenant),
        Manifest(rbac.role(rbac.SUBMITTER_ROLE, namespace, rbac.SUBMITTER_RULES, owner)),
        Manifest(rbac.role_binding(rbac.SUBMITTER_ROLE, namespace, submitters, owner)),
        Manifest(rbac.role(rbac.DRIVER_ROLE, namespace, driver_rules, owner)),
        Manifest(rbac.role_binding(rbac.DRIVER_ROLE, namespace, driver, owner)),
        Manifest(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": metadata(QUOTA_NAME, namespace, owner),
                "spec": {"hard": resource_quota(profile, name, tenant)},
            },
            (_quota_note(profile, name, tenant),),
        ),
    ]
    limits = container_limits(profile, name, tenant)
    if limits:
        manifests.append(
            Manifest(
                {
                    "apiVersion": "v1",
                    "kind": "LimitRange",
                    "metadata": metadata(LIMIT_RANGE_NAME, namespace, owner),
                    "spec": {"limits": [{"type": "Container", **limits}]},
                }
            )
        )
    return manifests


def _namespace(name: str, tenant: Tenant) -> dict[str, Any]:
    """Labelled with the tenant label every pod carries and the labels the tenant fixes for them (values
    templated per run are left out)."""
    given = {**(tenant.labels or {}), **tenant.pinned.labels}
    labels = {key: value for key, value in given.items() if not is_templated(value)}
    labels[TENANT_LABEL] = name
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(tenant.namespace, labels=labels)}


def _service_account(name: str, tenant: Tenant) -> Manifest:
    meta = metadata(tenant.service_account, tenant.namespace, {TENANT_LABEL: name})
    where = f"{tenant.namespace}/{tenant.service_account}"
    notes: tuple[str, ...] = ()
    if tenant.pod_identity:
        role = tenant.iam_role_arn or "<the tenant's IAM role>"
        notes = (
            f"tenant {name}: EKS Pod Identity: create an association for service account {where} with role {role} "
            f"(aws eks create-pod-identity-association --namespace {tenant.namespace} "
            f"--service-account {tenant.service_account} --role-arn {role} --cluster-name <cluster>)",
        )
    elif tenant.iam_role_arn:
        meta["annotations"] = {IRSA_ANNOTATION: tenant.iam_role_arn}
    else:
        notes = (
            f"tenant {name}: no iam_role_arn: pods running as {where} get no AWS credentials of their own "
            "(set tenants.<name>.iam_role_arn for IRSA, with pod_identity: true for EKS Pod Identity)",
        )
    return Manifest({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}, notes)


def _priority_notes(profile: PlatformProfile, tenant: Tenant) -> tuple[str, ...]:
    classes = {tenant.pinned.priority_class, tenant_scheduler(profile, tenant).get("priority_class")}
    return tuple(
        f"PriorityClass {value} must exist: the tenant's pods name it" for value in sorted(c for c in classes if c)
    )


def _quota_note(profile: PlatformProfile, name: str, tenant: Tenant) -> str:
    size = footprint(profile, name, tenant)
    return (
        f"quota: {size.applications} application(s) x (driver {cpu_quantity(size.driver.cores)} CPU, "
        f"{memory_quantity(size.driver.memory_kib)} [{size.driver.memory_from}] + {size.executors} executors x "
        f"{cpu_quantity(size.executor.cores)} CPU [{size.executor.cores_from}], "
        f"{memory_quantity(size.executor.memory_kib)} [{size.executor.memory_from}])"
    )
