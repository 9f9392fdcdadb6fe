"""The backends a job renders for: the one place their names are spelled.

`Target` is a `str` enum, so a profile's `backend: spark_operator`, a serialized XCom value and the
operator's `backend=` argument all compare equal to its members.
"""

from __future__ import annotations

import warnings
from enum import Enum

from airflow_eks_data.errors import Problem, SpecError


class Target(str, Enum):
    SPARK_OPERATOR = "spark_operator"
    EMR_ON_EKS = "emr_on_eks"
    LOCAL = "local"

    def __str__(self) -> str:
        return self.value


TARGETS: tuple[Target, ...] = tuple(Target)
DASHED = {target.value.replace("_", "-"): target for target in Target if "_" in target.value}
"""The CLI's first spelling (`spark-operator`), still accepted with a deprecation warning."""


def target_name(name: str) -> Target:
    """The target called `name`; the dashed spelling works, with a `DeprecationWarning`."""
    normal = name.strip().lower()
    if normal in DASHED:
        warnings.warn(
            f"target {name!r} is deprecated: write {DASHED[normal].value!r}", DeprecationWarning, stacklevel=2
        )
        return DASHED[normal]
    try:
        return Target(normal)
    except ValueError:
        raise SpecError([Problem("target", name, f"one of {', '.join(TARGETS)}")]) from None
