"""The same job on an EMR on EKS virtual cluster: only the backend and the connection change."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

with DAG("example_emr_on_eks", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False):
    SparkOnEksOperator(
        task_id="compact_events",
        job="jobs/compact_events.yaml",
        profile="compaction",
        backend="emr_on_eks",
        aws_conn_id="aws_default",
        retries=2,
    )
