"""Karpenter v1 NodePools and the EC2NodeClass that admit every pod a profile's placement renders.

One NodePool per `placement.<role>.node_pool` (driver and executor may share one; unnamed roles get
`<profile>-driver` / `<profile>-executor`). A pool's requirements are the union of what its roles' pods
may require, so no pod the package renders is left without a pool:

- `karpenter.sh/capacity-type`: the driver's capacity plus on-demand (escalation after interruptions
  moves drivers there); executors get both types unless every tenant pins theirs (a job may choose,
  and escalation moves them to on-demand). Karpenter still launches what each pod requires: a pool
  that admits both types gives spot to a pod that requires spot.
- `kubernetes.io/arch`: each tenant's architecture (its own, else the profile's); amd64 when none says.
  A job choosing another architecture needs a pool that admits it.
- `karpenter.k8s.aws/instance-local-nvme` Gt N when the role asks for `min_local_nvme_gb`, or mounts
  the NVMe shuffle volume (Gt 0); the node class then sets `instanceStorePolicy: RAID0`, which makes
  the instance stores one array mounted under `/mnt/k8s-disks`.
- `topology.kubernetes.io/zone` In `placement.zones` when given (`same_zone` keeps each application
  in one of them through pod affinity); `instance_families` from the `karpenter` section.
- `node_selector` keys of Kubernetes, EKS or Karpenter (well-known labels) become requirements; any
  other key becomes a label Karpenter puts on the pool's nodes.

Disruption is `WhenEmpty` by default: consolidating an underutilized node evicts running executors.
"""

from __future__ import annotations

from typing import Any

from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.jobspec.names import DNS_SUBDOMAIN
from airflow_eks_data.jobspec.profile import PlatformProfile, RolePlacement
from airflow_eks_data.platform.model import Manifest, metadata
from airflow_eks_data.render.pod_template import ARCH_KEY, CAPACITY_KEY, NODEPOOL_KEY, NVME_KEY, ZONE_KEY

NODEPOOL_API = "karpenter.sh/v1"
NODECLASS_API = "karpenter.k8s.aws/v1"
NODECLASS_GROUP = NODECLASS_API.partition("/")[0]
OS_KEY = "kubernetes.io/os"
FAMILY_KEY = "karpenter.k8s.aws/instance-family"
HOSTNAME_KEY = "kubernetes.io/hostname"
CAPACITY_TYPES = ("on-demand", "spot")
WELL_KNOWN = ("kubernetes.io", "k8s.io", "karpenter.sh", "karpenter.k8s.aws")
"""Label domains Karpenter fills from the instance itself: requirements, never labels it sets."""

PLACED = frozenset({CAPACITY_KEY, ARCH_KEY, OS_KEY, NVME_KEY, NODEPOOL_KEY, HOSTNAME_KEY})
"""Node labels a selector must not name: placement sets them (or, for the hostname, nothing may)."""

ROLES = ("driver", "executor")


def _well_known(key: str) -> bool:
    domain, slash, _ = key.partition("/")
    return bool(slash) and any(domain == known or domain.endswith(f".{known}") for known in WELL_KNOWN)


def karpenter_manifests(profile: PlatformProfile) -> list[Manifest]:
    """The EC2NodeClass and the NodePools; none when the profile has no `karpenter` section."""
    settings = profile.karpenter
    if settings is None:
        return []
    pools: dict[str, list[str]] = {}
    for role in ROLES:
        pools.setdefault(pool_name(profile, role), []).append(role)
    node_class = settings.node_class or profile.name
    nvme = any(_nvme(profile, role) is not None for role in ROLES)
    manifests = [Manifest(_node_class(profile, node_class, nvme))]
    for name, roles in pools.items():
        manifests.append(Manifest(_node_pool(profile, name, roles, node_class)))
    return manifests


def pool_name(profile: PlatformProfile, role: str) -> str:
    name = _placement(profile, role).node_pool or f"{profile.name}-{role}"
    if len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        raise SpecError([Problem(f"placement.{role}.node_pool", name, "a NodePool name: a DNS subdomain")])
    return name


def _placement(profile: PlatformProfile, role: str) -> RolePlacement:
    return profile.placement.driver if role == "driver" else profile.placement.executor


def capacity_types(profile: PlatformProfile, role: str) -> set[str]:
    """Every capacity type the role's pods may require (see the module docstring)."""
    if role == "driver":
        capacity = profile.placement.driver.capacity
        return {capacity, "on-demand"} if capacity else set(CAPACITY_TYPES)
    tenants = list(profile.tenants.values())
    if tenants and all(tenant.pinned.capacity for tenant in tenants):
        return {tenant.pinned.capacity for tenant in tenants if tenant.pinned.capacity}
    return set(CAPACITY_TYPES)


def architectures(profile: PlatformProfile, role: str) -> set[str]:
    """Each tenant's architecture for the role's pods, as the resolver picks it (amd64 when unset)."""
    fallback = profile.arch or _placement(profile, role).arch or "amd64"
    tenants = list(profile.tenants.values())
    return {tenant.arch or fallback for tenant in tenants} if tenants else {fallback}


def _nvme(profile: PlatformProfile, role: str) -> int | None:
    """The instance-local NVMe (GB) the role's nodes need more than, or None."""
    asked = _placement(profile, role).min_local_nvme_gb
    if asked is not None:
        return asked
    nvme = profile.local_storage.nvme
    return 0 if nvme is not None and role in nvme.roles else None


def _node_pool(profile: PlatformProfile, name: str, roles: list[str], node_class: str) -> dict[str, Any]:
    assert profile.karpenter is not None
    requirements: dict[str, tuple[str, set[str]]] = {
        CAPACITY_KEY: ("In", set().union(*(capacity_types(profile, role) for role in roles))),
        ARCH_KEY: ("In", set().union(*(architectures(profile, role) for role in roles))),
        OS_KEY: ("In", {"linux"}),
    }
    needs = [_nvme(profile, role) for role in roles]
    if all(size is not None for size in needs):
        requirements[NVME_KEY] = ("Gt", {str(min(size for size in needs if size is not None))})
    if profile.placement.zones:
        requirements[ZONE_KEY] = ("In", set(profile.placement.zones))
    if profile.karpenter.instance_families:
        requirements[FAMILY_KEY] = ("In", set(profile.karpenter.instance_families))
    labels: dict[str, str] = {}
    for role in roles:
        for key, value in _placement(profile, role).node_selector.items():
            where = f"placement.{role}.node_selector[{key}]"
            if key in PLACED:
                raise SpecError(
                    [Problem(where, value, "karpenter: set this through placement (capacity, arch, node_pool, NVMe)")]
                )
            if _well_known(key):
                operator, values = requirements.get(key, ("In", set()))
                requirements[key] = (operator, values | {value})
            elif labels.setdefault(key, value) != value:
                raise SpecError([Problem(where, value, f"karpenter: pool {name} labels its nodes {key}={labels[key]}")])
    template: dict[str, Any] = {
        "spec": {
            "nodeClassRef": {"group": NODECLASS_GROUP, "kind": "EC2NodeClass", "name": node_class},
            "requirements": [
                {"key": key, "operator": operator, "values": sorted(values)}
                for key, (operator, values) in requirements.items()
            ],
        }
    }
    if labels:
        template["metadata"] = {"labels": labels}
    return {
        "apiVersion": NODEPOOL_API,
        "kind": "NodePool",
        "metadata": metadata(name),
        "spec": {
            "template": template,
            "disruption": {
                "consolidationPolicy": profile.karpenter.consolidation_policy,
                "consolidateAfter": profile.karpenter.consolidate_after,
            },
        },
    }


def _node_class(profile: PlatformProfile, name: str, nvme: bool) -> dict[str, Any]:
    settings = profile.karpenter
    assert settings is not None
    spec: dict[str, Any] = {}
    if settings.node_role:
        spec["role"] = settings.node_role
    else:
        spec["instanceProfile"] = settings.instance_profile
    spec["amiSelectorTerms"] = [{"alias": settings.ami_alias}]
    spec["subnetSelectorTerms"] = [{"tags": dict(settings.subnet_tags)}]
    spec["securityGroupSelectorTerms"] = [{"tags": dict(settings.security_group_tags)}]
    if nvme:
        spec["instanceStorePolicy"] = "RAID0"
    return {"apiVersion": NODECLASS_API, "kind": "EC2NodeClass", "metadata": metadata(name), "spec": spec}
