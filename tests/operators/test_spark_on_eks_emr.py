"""`SparkOnEksOperator(backend="emr_on_eks")` end to end: real Airflow (`dag.test()`), boto3 and
aiobotocore over HTTP to moto's server, which plays EMR on EKS (a thread moves runs as EMR would)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import PROFILE_PATH
from tests.dagrun import DagResult, run_dag
from tests.emr.fixtures import boto_client
from tests.emr.moto_emr import REGION, EmrMoto

# Scripted ends of successive job runs: (state, failureReason).
COMPLETED = ("COMPLETED", None)
USER_ERROR = ("FAILED", "USER_ERROR")
LOST = ("FAILED", "CLUSTER_UNAVAILABLE")


def play(server: EmrMoto, ends: list[tuple[str, str | None]]) -> threading.Thread:
    """EMR, scripted: the n-th job run to appear ends as `ends[n]`, shortly after it started."""

    def loop() -> None:
        done: set[str] = set()
        while len(done) < len(ends):
            for run in sorted(server.runs(), key=lambda r: str(r.created_at)):
                if run.id not in done and len(done) < len(ends):
                    state, reason = ends[len(done)]
                    server.set_state(run.id, state, failure_reason=reason, state_details=reason)
                    done.add(run.id)
            threading.Event().wait(0.2)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def run_emr(airflow_home: Path, tmp_path: Path, dag_id: str, virtual_cluster: str, server: EmrMoto) -> DagResult:
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile["tenants"]["datalake"]["emr"]["virtual_cluster_id"] = virtual_cluster
    path = tmp_path / "compaction.yaml"
    path.write_text(yaml.safe_dump(profile))
    boto_client(server, "s3").create_bucket(
        Bucket="example-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    job: dict[str, Any] = {
        "name": "compact-events",
        "tenant": "datalake",
        "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
        "labels": {"team": "data-platform", "cost-center": "cc-42"},
    }
    return run_dag(
        airflow_home,
        dag_id,
        f"""
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        with DAG({dag_id!r}, schedule=None, catchup=False):
            SparkOnEksOperator(task_id="spark", job={job!r}, profile={str(path)!r}, backend="emr_on_eks",
                               retries=2, poll_interval=0.5, interruption_backoff=0.05)
        """,
    )


def test_success(moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path) -> None:
    play(moto_server, [COMPLETED])
    result = run_emr(airflow_home, tmp_path, "emr_success", virtual_cluster, moto_server)
    assert result.state == "success"
    out = result.xcom["spark"]
    assert out["backend"] == "emr_on_eks" and out["outcome"] == "succeeded"
    assert out["virtual_cluster_id"] == virtual_cluster and out["release_label"] == "emr-7.5.0-latest"
    assert out["log_locations"]["s3"].endswith(f"/{virtual_cluster}/jobs/{out['job_run_id']}/")
    [run] = moto_server.runs(virtual_cluster)
    assert run.id == out["job_run_id"]


def test_user_error_fails_fast(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path
) -> None:
    play(moto_server, [USER_ERROR])
    result = run_emr(airflow_home, tmp_path, "emr_user_error", virtual_cluster, moto_server)
    assert result.state == "failed" and result.tries["spark"] == 1
    assert len(moto_server.runs(virtual_cluster)) == 1


def test_infrastructure_loss_is_resubmitted(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path
) -> None:
    play(moto_server, [LOST, COMPLETED])
    result = run_emr(airflow_home, tmp_path, "emr_lost", virtual_cluster, moto_server)
    assert result.state == "success"
    out = result.xcom["spark"]
    assert [a["outcome"] for a in out["attempts"]] == ["interrupted", "succeeded"]
    assert len(moto_server.runs(virtual_cluster)) == 2
