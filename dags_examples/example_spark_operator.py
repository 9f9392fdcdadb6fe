"""The smallest useful DAG for the Spark Operator backend: one job, one profile, a deferred wait."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

with DAG("example_spark_operator", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False):
    SparkOnEksOperator(
        task_id="compact_events",
        job="jobs/compact_events.yaml",  # relative to this file
        profile="compaction",  # found in [eks_data] profiles_dir
        backend="spark_operator",
        kubernetes_conn_id="kubernetes_default",
        retries=2,  # spent on infrastructure failures only; spot interruptions are resubmitted for free
    )
