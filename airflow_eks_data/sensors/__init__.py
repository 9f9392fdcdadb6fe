"""Deferrable waits on applications and job runs submitted elsewhere (names load on first use)."""

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

__getattr__ = lazy(__name__)

if TYPE_CHECKING:
    from airflow_eks_data.sensors.emr_job_run import EmrEksJobRunSensor
    from airflow_eks_data.sensors.emr_serverless_job_run import EmrServerlessJobRunSensor
    from airflow_eks_data.sensors.spark_application import SparkApplicationSensor

__all__ = ["EmrEksJobRunSensor", "EmrServerlessJobRunSensor", "SparkApplicationSensor"]
