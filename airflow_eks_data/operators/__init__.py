"""The operator that renders, submits, waits for and classifies a Spark job.

Each class is importable from here and from its module; both load lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

if TYPE_CHECKING:
    from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

__getattr__ = lazy(
    __name__,
    {
        "SparkOnEksOperator": "airflow_eks_data.operators.spark_on_eks",
    },
)
__all__ = ["SparkOnEksOperator"]
