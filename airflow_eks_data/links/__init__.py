"""Operator extra links: the Spark UI, the History Server, the EMR job run page.

Each class is importable from here and from its module; both load lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

if TYPE_CHECKING:
    from airflow_eks_data.links.spark import EmrJobRunLink, SparkHistoryLink, SparkUiLink

__getattr__ = lazy(
    __name__,
    {
        "SparkUiLink": "airflow_eks_data.links.spark",
        "SparkHistoryLink": "airflow_eks_data.links.spark",
        "EmrJobRunLink": "airflow_eks_data.links.spark",
    },
)
__all__ = ["EmrJobRunLink", "SparkHistoryLink", "SparkUiLink"]
