"""The async waits the triggerer runs: serializable, safe by the thousand.

Each class is importable from here and from its module; both load lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

if TYPE_CHECKING:
    from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger
    from airflow_eks_data.triggers.resubmit import ResubmitAfterTrigger
    from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger

__getattr__ = lazy(
    __name__,
    {
        "SparkApplicationTrigger": "airflow_eks_data.triggers.spark_application",
        "EmrEksJobRunTrigger": "airflow_eks_data.triggers.emr_job_run",
        "ResubmitAfterTrigger": "airflow_eks_data.triggers.resubmit",
    },
)
__all__ = ["EmrEksJobRunTrigger", "ResubmitAfterTrigger", "SparkApplicationTrigger"]
