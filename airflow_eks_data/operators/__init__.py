"""The operator that renders, submits, waits for and classifies a Spark job (names load on first use)."""

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

__getattr__ = lazy(__name__)

if TYPE_CHECKING:
    from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

__all__ = ["SparkOnEksOperator"]
