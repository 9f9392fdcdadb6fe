"""Operator extra links: the Spark UI, the History Server, the EMR job run page (names load on first use)."""

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

__getattr__ = lazy(__name__)

if TYPE_CHECKING:
    from airflow_eks_data.links.spark import (
        EmrJobRunLink,
        SparkHistoryLink,
        SparkUiLink,
    )

__all__ = ["EmrJobRunLink", "SparkHistoryLink", "SparkUiLink"]
