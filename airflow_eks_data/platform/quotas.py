"""A tenant's ResourceQuota and LimitRange, from its caps and the pod request arithmetic jobs are held to.

One application of the tenant asks at most for its driver pod plus `max_executors` executor pods. Each
pod's memory is what Spark really requests (heap + overhead + off-heap + Python memory,
`resolve.pod_requests`): the tenant's cap on it when there is one (a job's pod cannot exceed it), else
the pod a job gets from the profile's and tenant's defaults. CPU likewise, from `max_executor_cores` or
the default cores (with `spark.kubernetes.*.request.cores`); the driver's cores have no cap, so they are
the default's. `max_applications` (default 1) such applications may run at once:

    requests.cpu    = applications x (driver cores  + executors x executor cores)
    requests.memory = applications x (driver memory + executors x executor memory)   (= limits.memory:
                      Spark sets each pod's memory limit to its request)
    pods            = applications x (1 + executors)

plus ephemeral storage (every pod's request and limit from `local_storage.ephemeral_storage`) and, with
EBS shuffle volumes, one claim of `local_storage.ebs.size` per executor. Quotas count only pods that
are not finished, so a finished application stops counting at once (its SparkApplication object may
live on until its TTL, which is why there is no object-count quota on SparkApplications).

The LimitRange bounds each container by the caps that hold for every Spark container of the namespace:
memory when both the driver's and the executors' memory are capped (the larger cap), ephemeral storage
by `max_local_storage`. CPU is not bounded per container: the driver's cores have no cap, and a
LimitRange cannot tell a driver from an executor.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.jobspec.profile import PlatformProfile, Tenant
from airflow_eks_data.jobspec.quantities import memory_kib
from airflow_eks_data.resolve import ownership
from airflow_eks_data.resolve.merge import layer_dict, merge_settings
from airflow_eks_data.resolve.pod_requests import PodRequest, pod_request
from airflow_eks_data.resolve.resolver import DEFAULTS

QUOTA_NAME = "spark-applications"
LIMIT_RANGE_NAME = "spark-containers"

_STORAGE = re.compile(r"^([0-9]+)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$")
_UNIT_BYTES = {
    **{unit: 1024 ** (i + 1) for i, unit in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi"))},
    **{unit: 1000 ** (i + 1) for i, unit in enumerate(("k", "M", "G", "T", "P"))},
}


@dataclass(frozen=True)
class Pod:
    """One pod at most: memory in KiB, CPU in cores, and where each figure comes from."""

    memory_kib: int
    cores: float
    memory_from: str
    cores_from: str


@dataclass(frozen=True)
class Footprint:
    """What the tenant's applications may ask for at once."""

    applications: int
    executors: int
    driver: Pod
    executor: Pod

    @property
    def pods(self) -> int:
        return self.applications * (1 + self.executors)

    @property
    def cores(self) -> float:
        return self.applications * (self.driver.cores + self.executors * self.executor.cores)

    @property
    def memory_kib(self) -> int:
        return self.applications * (self.driver.memory_kib + self.executors * self.executor.memory_kib)


def footprint(profile: PlatformProfile, name: str, tenant: Tenant) -> Footprint:
    """The tenant's applications at their caps (see the module docstring)."""
    merged, _ = merge_settings(
        [("default", DEFAULTS), ("profile", layer_dict(profile)), ("tenant", layer_dict(tenant))]
    )
    conf = {
        ownership.canonical_keys(key)[0]: value
        for key, value in {**merged.get("spark_conf", {}), **tenant.pinned.spark_conf}.items()
    }
    pods = {}
    for role in ("driver", "executor"):
        settings = merged[role]
        try:
            # Python's overhead factor is the larger: a tenant's default-sized Python job fits too.
            pods[role] = pod_request(
                role, settings["cores"], settings["memory"], settings.get("memory_overhead"), conf, non_jvm=True
            )
        except ValueError as exc:
            raise SpecError([Problem(f"tenants.{name}.spark_conf", str(exc).split(":")[0], f"size: {exc}")]) from None
    dynamic = merged.get("dynamic_allocation", {})
    if tenant.max_executors is not None:
        executors = tenant.max_executors
    elif dynamic.get("enabled") and dynamic.get("max_executors"):
        executors = dynamic["max_executors"]
    else:
        executors = merged["executor"]["instances"]
    return Footprint(
        applications=tenant.max_applications or 1,
        executors=executors,
        driver=_pod(pods["driver"], tenant.max_driver_memory, None),
        executor=_pod(pods["executor"], tenant.max_executor_memory, tenant.max_executor_cores),
    )


def _pod(default: PodRequest, memory_cap: str | None, cores_cap: int | None) -> Pod:
    return Pod(
        memory_kib=memory_kib(memory_cap) if memory_cap else default.memory_kib,
        cores=float(cores_cap) if cores_cap else default.cores,
        memory_from=f"cap {memory_cap}" if memory_cap else f"default pod {default.describe()}",
        cores_from=f"cap {cores_cap}" if cores_cap else "default cores",
    )


def resource_quota(profile: PlatformProfile, name: str, tenant: Tenant) -> dict[str, str]:
    """`spec.hard` of the tenant's ResourceQuota."""
    size = footprint(profile, name, tenant)
    memory = memory_quantity(size.memory_kib)
    hard = {
        "requests.cpu": cpu_quantity(size.cores),
        "requests.memory": memory,
        "limits.memory": memory,
        "pods": str(size.pods),
    }
    storage = profile.local_storage
    if storage.ephemeral_storage:
        hard["requests.ephemeral-storage"] = _times(storage.ephemeral_storage.request, size.pods)
        hard["limits.ephemeral-storage"] = _times(storage.ephemeral_storage.limit, size.pods)
    if storage.ebs:
        claims = size.applications * size.executors
        hard["persistentvolumeclaims"] = str(claims)
        hard["requests.storage"] = memory_quantity(claims * memory_kib(storage.ebs.size))
    return hard


def container_limits(profile: PlatformProfile, name: str, tenant: Tenant) -> dict[str, dict[str, str]]:
    """The LimitRange's one `Container` item without its type ({} when no cap bounds every container)."""
    item: dict[str, dict[str, str]] = {}
    if tenant.max_executor_memory and tenant.max_driver_memory:
        larger = max(memory_kib(tenant.max_executor_memory), memory_kib(tenant.max_driver_memory))
        item.setdefault("max", {})["memory"] = memory_quantity(larger)
    cap = tenant.max_local_storage
    if cap:
        item.setdefault("max", {})["ephemeral-storage"] = memory_quantity(memory_kib(cap))
        ephemeral = profile.local_storage.ephemeral_storage
        if ephemeral:
            if _kib(ephemeral.limit) > memory_kib(cap):
                raise SpecError(
                    [
                        Problem(
                            "local_storage.ephemeral_storage.limit",
                            ephemeral.limit,
                            f"max-local-storage: tenant {name} allows at most {cap} per pod",
                        )
                    ]
                )
            item["default"] = {"ephemeral-storage": ephemeral.limit}
            item["defaultRequest"] = {"ephemeral-storage": ephemeral.request}
    return item


def memory_quantity(kib: int) -> str:
    """A Kubernetes quantity in the largest binary unit that divides it: `13Ti`, `1536Mi`, `100Ki`."""
    for unit, size in (("Ti", 1024**3), ("Gi", 1024**2), ("Mi", 1024)):
        if kib % size == 0:
            return f"{kib // size}{unit}"
    return f"{kib}Ki"


def cpu_quantity(cores: float) -> str:
    """Whole cores as `12`, else millicores (`1500m`)."""
    millis = round(cores * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def _kib(quantity: str) -> int:
    """KiB (rounded up) of an ephemeral-storage quantity, written Kubernetes-style (`10Gi`, `20G`)."""
    match = _STORAGE.match(quantity.strip())
    if not match:
        raise SpecError(
            [Problem("local_storage.ephemeral_storage", quantity, "a whole quantity such as 10Gi, 20G or 512Mi")]
        )
    number, unit = match.groups()
    size: int = _UNIT_BYTES.get(unit or "", 1)
    return math.ceil(int(number) * size / 1024)


def _times(quantity: str, count: int) -> str:
    return memory_quantity(_kib(quantity) * count)
