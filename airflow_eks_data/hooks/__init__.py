"""API access: the Kubernetes API for the Spark Operator, EMR on EKS, local spark-submit.

Each class is importable from here and from its module; both load lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook, EmrEksHook
    from airflow_eks_data.hooks.local_spark import LocalSparkHook
    from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook, SparkOperatorHook

__getattr__ = lazy(
    __name__,
    {
        "SparkOperatorHook": "airflow_eks_data.hooks.spark_operator",
        "AsyncSparkOperatorHook": "airflow_eks_data.hooks.spark_operator",
        "EmrEksHook": "airflow_eks_data.hooks.emr_on_eks",
        "AsyncEmrEksHook": "airflow_eks_data.hooks.emr_on_eks",
        "LocalSparkHook": "airflow_eks_data.hooks.local_spark",
    },
)
__all__ = ["AsyncEmrEksHook", "AsyncSparkOperatorHook", "EmrEksHook", "LocalSparkHook", "SparkOperatorHook"]
