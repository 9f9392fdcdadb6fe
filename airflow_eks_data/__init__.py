"""Run Spark on Amazon EKS from Airflow 3: typed jobs, platform profiles, Spark Operator and EMR on EKS.

Names are loaded on first use so that `import airflow_eks_data` (done by Airflow's provider discovery
in every process) stays cheap and pulls in neither pydantic models nor any cloud client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, dict[str, str]] = {
    # package -> {name: module}, for this package and each subpackage that exports its classes
    "airflow_eks_data": {
        "SparkJob": "jobspec.job",
        "PlatformProfile": "jobspec.profile",
        "SpecError": "errors",
        "resolve": "resolve.resolver",
        "prepare": "pipeline",
    },
    "airflow_eks_data.operators": {"SparkOnEksOperator": "spark_on_eks"},
    "airflow_eks_data.sensors": {
        "SparkApplicationSensor": "spark_application",
        "EmrEksJobRunSensor": "emr_job_run",
        "EmrServerlessJobRunSensor": "emr_serverless_job_run",
    },
    "airflow_eks_data.hooks": {
        "SparkOperatorHook": "spark_operator",
        "AsyncSparkOperatorHook": "spark_operator",
        "EmrEksHook": "emr_on_eks",
        "AsyncEmrEksHook": "emr_on_eks",
        "EmrServerlessHook": "emr_serverless",
        "AsyncEmrServerlessHook": "emr_serverless",
        "LocalSparkHook": "local_spark",
    },
    "airflow_eks_data.triggers": {
        "SparkApplicationTrigger": "spark_application",
        "EmrEksJobRunTrigger": "emr_job_run",
        "EmrServerlessJobRunTrigger": "emr_serverless_job_run",
        "ResubmitAfterTrigger": "resubmit",
        "SparkSubmitExitTrigger": "spark_submit",
    },
    "airflow_eks_data.links": {"SparkUiLink": "spark", "SparkHistoryLink": "spark", "EmrJobRunLink": "spark"},
}

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_eks_data.errors import SpecError
    from airflow_eks_data.jobspec.job import SparkJob
    from airflow_eks_data.jobspec.profile import PlatformProfile
    from airflow_eks_data.pipeline import prepare
    from airflow_eks_data.resolve.resolver import resolve


def lazy(package: str) -> Callable[[str], Any]:
    """The module `__getattr__` of `package`, serving the names `_EXPORTS` lists for it: a name is
    imported on first use, so importing a package costs only what is used."""
    package = package.removesuffix(".__init__")
    exports = _EXPORTS[package]

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__


__getattr__ = lazy(__name__)
__all__ = ["PlatformProfile", "SparkJob", "SpecError", "__version__", "prepare", "resolve"]
