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
    kib = memory_kib(value)
    for unit in ("t", "g", "m"):
        size = _KIB[unit]
        if kib % size == 0:
            return f"{kib // size}{unit}"
    return f"{kib}k"


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
