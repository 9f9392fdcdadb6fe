"""What a driver or executor pod really asks Kubernetes for, computed as Spark on Kubernetes does.

A cap on `executor.memory` alone is a cap on the heap: overhead (explicit, or a factor of the heap),
off-heap memory and the Python workers' memory are added to the pod's request by Spark itself. Caps and
cost estimates both read the pod's request from here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from airflow_eks_data.jobspec.quantities import cpu_cores, kib_text, memory_kib, spark_size_kib

MIN_OVERHEAD_KIB = 384 * 1024
JVM_OVERHEAD_FACTOR = 0.1
NON_JVM_OVERHEAD_FACTOR = 0.4
"""Spark's default overhead factor for Python and R applications, whose workers live outside the heap."""


@dataclass(frozen=True)
class PodRequest:
    """One pod's memory (KiB, with the parts it adds up from) and CPU."""

    role: str
    memory_kib: int
    parts: tuple[tuple[str, int], ...]
    cores: float

    def describe(self) -> str:
        """`96g (memory 64g + overhead 16g + offHeap 16g)`."""
        parts = " + ".join(f"{name} {kib_text(kib)}" for name, kib in self.parts if kib)
        return f"{kib_text(self.memory_kib)} ({parts})"


def pod_request(
    role: str, cores: int, memory: str, memory_overhead: str | None, conf: Mapping[str, str], non_jvm: bool
) -> PodRequest:
    """The pod of `role` for heap `memory`, under the merged Spark `conf` of every layer.

    Raises ValueError naming the property when one of the sizing properties is not a size or number.
    """
    lowered = {key.strip().lower(): value for key, value in conf.items()}
    heap = memory_kib(memory)
    parts = [("memory", heap), ("overhead", _overhead(role, heap, memory_overhead, lowered, non_jvm))]
    if role == "executor":
        if lowered.get("spark.memory.offheap.enabled", "false").strip().lower() == "true":
            parts.append(("offHeap", _size(lowered, "spark.memory.offheap.size", "b")))
        parts.append(("pyspark", _size(lowered, "spark.executor.pyspark.memory", "m")))
    requested = [float(cores)]
    for kind in ("request", "limit"):
        key = f"spark.kubernetes.{role}.{kind}.cores"
        if key in lowered:
            requested.append(_number(key, lowered[key], cpu_cores))
    return PodRequest(role, sum(kib for _, kib in parts), tuple(parts), max(requested))


def _overhead(role: str, heap: int, explicit: str | None, conf: Mapping[str, str], non_jvm: bool) -> int:
    if explicit:
        return memory_kib(explicit)
    factor_keys = (f"spark.{role}.memoryoverheadfactor", "spark.kubernetes.memoryoverheadfactor")
    given = next((key for key in factor_keys if key in conf), None)
    if given:
        factor = _number(given, conf[given], float)
    else:
        factor = NON_JVM_OVERHEAD_FACTOR if non_jvm else JVM_OVERHEAD_FACTOR
    minimum = _size(conf, f"spark.{role}.minmemoryoverhead", "m") or MIN_OVERHEAD_KIB
    return max(int(factor * (heap // 1024)) * 1024, minimum)  # Spark rounds down to whole MiB


def _size(conf: Mapping[str, str], key: str, default_unit: str) -> int:
    return int(_number(key, conf[key], lambda text: spark_size_kib(text, default_unit))) if key in conf else 0


def _number(key: str, text: str, parse: Callable[[str], float]) -> float:
    try:
        value = parse(text)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
    if not math.isfinite(value) or not 0 <= value <= 2**53:
        raise ValueError(f"{key}: must be a finite, non-negative number")
    return value
