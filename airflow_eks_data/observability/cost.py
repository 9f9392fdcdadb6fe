"""A run's cost, estimated from requested resources x time x the profile's price table.

Method: for each attempt, each pod (the driver, and every executor the application created, else the
configured instance count) costs `cores x vcpu_hour + memory_gb x gb_hour` per hour it ran, where
memory is the pod's request (heap plus overhead; overhead defaults to Spark's max(384 MiB, 10%)).
Rates are chosen by the pod's capacity type and instance family. It prices requests, not the bill:
bin-packing, idle node time and savings plans are not in it. Interrupted attempts are included,
since the capacity was paid for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from airflow_eks_data.jobspec.cost import CostSettings, Rate
from airflow_eks_data.jobspec.quantities import memory_kib
from airflow_eks_data.observability.usage import FAMILY_LABEL, Usage
from airflow_eks_data.resolve.resolved import ResolvedJob, ResolvedPlacement, Resources

MIN_OVERHEAD_KIB = 384 * 1024
GIB_IN_KIB = 1024 * 1024


@dataclass(frozen=True)
class CostEstimate:
    amount: float
    currency: str
    vcpu_hours: float
    gb_hours: float
    unpriced: tuple[str, ...] = ()
    """Roles or attempts left out: no matching rate, or no run time reported."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pod_memory_gb(resources: Resources) -> float:
    heap = memory_kib(resources.memory)
    overhead = memory_kib(resources.memory_overhead) if resources.memory_overhead else max(MIN_OVERHEAD_KIB, heap // 10)
    return (heap + overhead) / GIB_IN_KIB


def rate_for(rates: Sequence[Rate], capacity: str | None, family: str | None) -> Rate | None:
    """The first rate whose capacity and family filters accept the pod (a filter left empty accepts all)."""
    for rate in rates:
        if rate.capacity not in (None, capacity):
            continue
        if rate.instance_family not in (None, family):
            continue
        return rate
    return None


def estimate(job: ResolvedJob, attempts: Sequence[Usage], settings: CostSettings) -> CostEstimate | None:
    """None when the profile has no price table."""
    if not settings.rates:
        return None
    amount = vcpu_hours = gb_hours = 0.0
    unpriced: list[str] = []
    for number, usage in enumerate(attempts, start=1):
        if usage.running_s is None:
            unpriced.append(f"attempt {number}: no run time")
            continue
        hours = usage.running_s / 3600
        pods = [
            ("driver", 1, job.driver, _capacity(usage.driver_capacity, job.driver_placement), usage.driver_family),
            ("executor", _executors(job, usage), job.executor, job.executor_placement.capacity, None),
        ]
        for role, count, resources, capacity, family in pods:
            family = family or _family(job.driver_placement if role == "driver" else job.executor_placement)
            rate = rate_for(settings.rates, capacity, family)
            if rate is None:
                unpriced.append(f"attempt {number}: {role} ({capacity or 'any capacity'}, {family or 'any family'})")
                continue
            cpu, memory = count * resources.cores * hours, count * pod_memory_gb(resources) * hours
            vcpu_hours, gb_hours = vcpu_hours + cpu, gb_hours + memory
            amount += cpu * rate.vcpu_hour + memory * rate.gb_hour
    return CostEstimate(round(amount, 6), settings.currency, round(vcpu_hours, 4), round(gb_hours, 4), tuple(unpriced))


def _executors(job: ResolvedJob, usage: Usage) -> int:
    if usage.executors is not None:
        return usage.executors
    return job.executor_instances


def _capacity(observed: str | None, placement: ResolvedPlacement) -> str | None:
    return observed or placement.capacity


def _family(placement: ResolvedPlacement) -> str | None:
    return placement.node_selector.get(FAMILY_LABEL)
