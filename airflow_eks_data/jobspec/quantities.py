"""Memory quantities and durations as people write them in YAML, normalised to what Spark accepts."""

from __future__ import annotations

import re

_MEMORY = re.compile(r"^([1-9][0-9]{0,9})(k|m|g|t|K|M|G|T|Ki|Mi|Gi|Ti)$")
_KIB = {"k": 1, "m": 1024, "g": 1024**2, "t": 1024**3}
MEMORY_RULE = "a positive whole quantity with a unit: k, m, g, t (Spark) or Ki, Mi, Gi, Ti (Kubernetes), e.g. 4g"

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DURATION_RULE = "whole seconds, or a duration such as 90s, 15m, 2h or 1h30m"


def memory_kib(value: str) -> int:
    """Size in KiB; raises ValueError with the rule when the value is not a quantity Spark understands.

    Spark reads `g` as GiB (binary), so `4g` and `4Gi` are the same; `4gb`, decimals and signs are refused
    because Spark and Kubernetes disagree on them.
    """
    match = _MEMORY.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(MEMORY_RULE)
    number, unit = match.groups()
    return int(number) * _KIB[unit[0].lower()]


def spark_memory(value: str) -> str:
    """The canonical Spark spelling (`4g`, `512m`) of a memory quantity."""
    return kib_text(memory_kib(value))


def duration_seconds(value: int | str) -> int:
    """Whole seconds from an int or a `1h30m`-style string."""
    if isinstance(value, bool):
        raise ValueError(DURATION_RULE)
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(DURATION_RULE)
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and int(text) > 0:
            return int(text)
        match = _DURATION.match(text)
        if match and any(match.groups()):
            hours, minutes, seconds = (int(g or 0) for g in match.groups())
            total = hours * 3600 + minutes * 60 + seconds
            if total > 0:
                return total
    raise ValueError(DURATION_RULE)


_SPARK_SIZE = re.compile(r"^([0-9]{1,15})\s*(b|k|kb|m|mb|g|gb|t|tb|p|pb)?$", re.IGNORECASE)
_BYTES_IN_KIB = {"b": 1 / 1024, "k": 1, "m": 1024, "g": 1024**2, "t": 1024**3, "p": 1024**4}
_CPU = re.compile(r"^([0-9]{1,6}(\.[0-9]{1,3})?)(m?)$")


def spark_size_kib(value: str, default_unit: str) -> int:
    """A Spark size property (`16g`, `2048`, `512mb`) in KiB; a bare number is in `default_unit`, as Spark
    reads that property (bytes for `spark.memory.offHeap.size`, MiB for `spark.executor.pyspark.memory`)."""
    match = _SPARK_SIZE.match(value.strip())
    if not match:
        raise ValueError("a size such as 512m, 16g or a whole number")
    number, unit = match.groups()
    return int(int(number) * _BYTES_IN_KIB[(unit or default_unit)[0].lower()])


def cpu_cores(value: str) -> float:
    """A Kubernetes CPU quantity (`2`, `1.5`, `500m`) in cores."""
    match = _CPU.match(value.strip())
    if not match:
        raise ValueError("a CPU quantity such as 2, 1.5 or 500m")
    number = float(match.group(1))
    return number / 1000 if match.group(3) else number


def kib_text(kib: int) -> str:
    """`96g`, `1536m`: a size in the largest whole Spark unit."""
    for unit in ("t", "g", "m"):
        if kib % _KIB[unit] == 0:
            return f"{kib // _KIB[unit]}{unit}"
    return f"{kib}k"
