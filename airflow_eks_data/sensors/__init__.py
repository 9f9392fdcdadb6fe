"""Deferrable waits on applications and job runs submitted elsewhere.

Each class is importable from here and from its module; both load lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

if TYPE_CHECKING:
    from airflow_eks_data.sensors.emr_job_run import EmrEksJobRunSensor
    from airflow_eks_data.sensors.spark_application import SparkApplicationSensor

__getattr__ = lazy(
    __name__,
    {
        "SparkApplicationSensor": "airflow_eks_data.sensors.spark_application",
        "EmrEksJobRunSensor": "airflow_eks_data.sensors.emr_job_run",
    },
)
__all__ = ["EmrEksJobRunSensor", "SparkApplicationSensor"]
