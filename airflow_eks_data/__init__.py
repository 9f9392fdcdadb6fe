"""Run Spark on Amazon EKS from Airflow 3: typed jobs, platform profiles, Spark Operator and EMR on EKS.

Names are loaded on first use so that `import airflow_eks_data` (done by Airflow's provider discovery
in every process) stays cheap and pulls in neither pydantic models nor any cloud client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "SparkJob": "airflow_eks_data.jobspec.job",
    "PlatformProfile": "airflow_eks_data.jobspec.profile",
    "SpecError": "airflow_eks_data.errors",
    "resolve": "airflow_eks_data.resolve.resolver",
    "prepare": "airflow_eks_data.pipeline",
}

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_eks_data.errors import SpecError
    from airflow_eks_data.jobspec.job import SparkJob
    from airflow_eks_data.jobspec.profile import PlatformProfile
    from airflow_eks_data.pipeline import prepare
    from airflow_eks_data.resolve.resolver import resolve


def lazy(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` serving `exports` (name -> module) for `package`: here and in the
    subpackages, a name is imported on first use, so importing a package costs only what is used."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__


__getattr__ = lazy(__name__, _EXPORTS)

__all__ = ["PlatformProfile", "SparkJob", "SpecError", "__version__", "prepare", "resolve"]
