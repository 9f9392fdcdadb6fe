"""API access: the Kubernetes API for the Spark Operator, EMR on EKS, EMR Serverless, local spark-submit.

Each hook loads on first use: the clients behind them take seconds to import."""

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

__getattr__ = lazy(__name__)

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook, EmrEksHook
    from airflow_eks_data.hooks.emr_serverless import AsyncEmrServerlessHook, EmrServerlessHook
    from airflow_eks_data.hooks.local_spark import LocalSparkHook
    from airflow_eks_data.hooks.spark_operator import (
        AsyncSparkOperatorHook,
        SparkOperatorHook,
    )

__all__ = [
    "AsyncEmrEksHook",
    "AsyncEmrServerlessHook",
    "AsyncSparkOperatorHook",
    "EmrEksHook",
    "EmrServerlessHook",
    "LocalSparkHook",
    "SparkOperatorHook",
]
