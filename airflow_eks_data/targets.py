"""The built-in backends' names: the one place they are spelled (`backends/registry.py` binds them to code).

`Target` is a `str` enum, so a profile's `backend: spark_operator`, a serialized XCom value and the
operator's `backend=` argument all compare equal to its members.
"""

from __future__ import annotations

from enum import Enum


class Target(str, Enum):
    SPARK_OPERATOR = "spark_operator"
    EMR_ON_EKS = "emr_on_eks"
    EMR_SERVERLESS = "emr_serverless"
    LOCAL = "local"

    def __str__(self) -> str:
        return self.value


TARGETS: tuple[Target, ...] = tuple(Target)
DASHED = {target.value.replace("_", "-"): target for target in Target if "_" in target.value}
"""The CLI's first spelling (`spark-operator`), still accepted with a deprecation warning."""
