"""The batch-scheduler queues a profile's tenants submit to, sized from their caps.

A Volcano queue is a cluster-scoped `Queue` object: one per queue name, with `capability` = what its
tenants' applications may ask for at once (`quotas.footprint`). YuniKorn keeps every queue in one
ConfigMap, `yunikorn-configs` in YuniKorn's namespace, whose `queues.yaml` replaces the whole queue
tree when applied: it is rendered for all of the profile's YuniKorn tenants, whichever tenant was
asked for, so applying it twice gives the same tree. Each tenant's queue is a leaf under `root` with
`max` resources from its caps; applications name their queue (`placementrules: provided`).
"""

from __future__ import annotations

from typing import Any

import yaml

from airflow_eks_data.jobspec.profile import PlatformProfile, Tenant
from airflow_eks_data.platform.model import Manifest, metadata
from airflow_eks_data.platform.quotas import cpu_quantity, footprint, memory_quantity

VOLCANO_API = "scheduling.volcano.sh/v1beta1"
YUNIKORN_CONFIGMAP = "yunikorn-configs"
YUNIKORN_NAMESPACE = "yunikorn"


def tenant_scheduler(profile: PlatformProfile, tenant: Tenant) -> dict[str, Any]:
    """The tenant's batch scheduler settings with the profile's: `name`, `queue` (defaulted), `gang`,
    `priority_class`; {} when neither sets one. Read defensively: older profiles have no such field."""
    profile_part = getattr(profile, "batch_scheduler", None)
    tenant_part = getattr(tenant, "batch_scheduler", None)
    if profile_part is None and tenant_part is None:
        return {}
    from airflow_eks_data.jobspec.profile import default_queue, layered_batch_scheduler

    values = {field: value for field, (value, _) in layered_batch_scheduler(profile_part, tenant_part)[0].items()}
    name = values.get("name")
    if name and not values.get("queue"):
        values["queue"] = default_queue(name, tenant.namespace)
    return values


def queue_manifests(profile: PlatformProfile, names: list[str]) -> list[Manifest]:
    """Volcano Queues of the tenants `names`, then YuniKorn's ConfigMap for all of the profile's tenants."""
    manifests = []
    volcano: dict[str, list[str]] = {}
    for name in names:
        settings = tenant_scheduler(profile, profile.tenants[name])
        if settings.get("name") == "volcano":
            volcano.setdefault(settings["queue"], []).append(name)
    for queue in volcano:
        # Tenants sharing a queue share its capability, also those not asked for.
        cores, memory = _capacity(profile, [t for t in profile.tenants if _queue_of(profile, t) == ("volcano", queue)])
        body = {
            "apiVersion": VOLCANO_API,
            "kind": "Queue",
            "metadata": metadata(queue),
            "spec": {"weight": 1, "capability": {"cpu": cpu_quantity(cores), "memory": memory_quantity(memory)}},
        }
        manifests.append(Manifest(body))
    yunikorn = [t for t in profile.tenants if _queue_of(profile, t)[0] == "yunikorn"]
    if any(_queue_of(profile, name)[0] == "yunikorn" for name in names):
        manifests.append(_yunikorn_configmap(profile, yunikorn, names))
    return manifests


def _queue_of(profile: PlatformProfile, name: str) -> tuple[str | None, str | None]:
    settings = tenant_scheduler(profile, profile.tenants[name])
    return settings.get("name"), settings.get("queue")


def _capacity(profile: PlatformProfile, tenants: list[str]) -> tuple[float, int]:
    sizes = [footprint(profile, name, profile.tenants[name]) for name in tenants]
    return sum(size.cores for size in sizes), sum(size.memory_kib for size in sizes)


def _yunikorn_configmap(profile: PlatformProfile, tenants: list[str], asked: list[str]) -> Manifest:
    root: dict[str, Any] = {"name": "root", "submitacl": "*", "queues": []}
    by_queue: dict[str, list[str]] = {}
    for name in tenants:
        queue = _queue_of(profile, name)[1]
        assert queue is not None  # defaulted by tenant_scheduler
        by_queue.setdefault(queue, []).append(name)
    for queue, owners in sorted(by_queue.items()):
        cores, memory = _capacity(profile, owners)
        node = root
        for part in queue.split(".")[1:]:
            children: list[dict[str, Any]] = node.setdefault("queues", [])
            child = next((c for c in children if c["name"] == part), None)
            if child is None:
                child = {"name": part}
                children.append(child)
            node = child
        node["resources"] = {"max": {"vcore": cpu_quantity(cores), "memory": memory_quantity(memory)}}
    config = {
        "partitions": [{"name": "default", "placementrules": [{"name": "provided", "create": False}], "queues": [root]}]
    }
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(YUNIKORN_CONFIGMAP, YUNIKORN_NAMESPACE),
        "data": {"queues.yaml": yaml.safe_dump(config, sort_keys=False)},
    }
    others = sorted(set(tenants) - set(asked))
    notes = [
        f"YuniKorn: {YUNIKORN_CONFIGMAP} replaces YuniKorn's whole queue tree; it holds the queues of every "
        f"YuniKorn tenant of profile {profile.name} ({', '.join(tenants)})"
        + (f", not only {', '.join(asked)}" if others else "")
        + "; merge in other profiles' queues before applying, and install YuniKorn in namespace "
        f"{YUNIKORN_NAMESPACE} (or change the namespace)",
    ]
    return Manifest(body, tuple(notes))
