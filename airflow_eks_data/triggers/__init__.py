"""The async waits the triggerer runs: serializable, safe by the thousand (names load on first use)."""

from typing import TYPE_CHECKING

from airflow_eks_data import lazy

__getattr__ = lazy(__name__)

if TYPE_CHECKING:
    from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger
    from airflow_eks_data.triggers.emr_serverless_job_run import EmrServerlessJobRunTrigger
    from airflow_eks_data.triggers.resubmit import ResubmitAfterTrigger
    from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger
    from airflow_eks_data.triggers.spark_submit import SparkSubmitExitTrigger

__all__ = [
    "EmrEksJobRunTrigger",
    "EmrServerlessJobRunTrigger",
    "ResubmitAfterTrigger",
    "SparkApplicationTrigger",
    "SparkSubmitExitTrigger",
]
