"""`SparkOnEksOperator(backend="emr_serverless")` end to end: real Airflow (`dag.test()`), boto3 and
aiobotocore over HTTP to moto's server, which plays EMR Serverless (a thread moves runs as it would)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import PROFILE_PATH
from tests.dagrun import DagResult, run_dag
from tests.emr.moto_serverless import ServerlessMoto
from tests.operators.test_spark_on_eks_emr import JOB

SUCCESS = ("SUCCESS", None)
USER_ERROR = ("FAILED", "Job failed, please check complete logs. ExitCode: 1")
CAPACITY = ("FAILED", "Insufficient capacity to run the job, try again later")


def play(server: ServerlessMoto, ends: list[tuple[str, str | None]]) -> threading.Thread:
    """EMR Serverless, scripted: the n-th job run to appear ends as `ends[n]`, shortly after it started."""

    def loop() -> None:
        done: set[str] = set()
        while len(done) < len(ends):
            for run in sorted(server.job_runs(), key=lambda r: r.created_at):
                if run.id not in done and len(done) < len(ends):
                    state, details = ends[len(done)]
                    server.set_state(run.id, state, state_details=details)
                    done.add(run.id)
            threading.Event().wait(0.2)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def profile_for(application: str, tmp_path: Path) -> Path:
    """The example profile with the test's application as the `datalake` tenant's."""
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile["tenants"]["datalake"]["emr_serverless"]["application_id"] = application
    profile["tenants"]["datalake"]["emr_serverless"]["execution_role_arn"] = "arn:aws:iam::123456789012:role/emrs"
    path = tmp_path / "compaction.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


def run_serverless(airflow_home: Path, tmp_path: Path, dag_id: str, application: str, **job: Any) -> DagResult:
    path = profile_for(application, tmp_path)
    return run_dag(
        airflow_home,
        dag_id,
        f"""
        from datetime import timedelta
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        with DAG({dag_id!r}, schedule=None, catchup=False):
            SparkOnEksOperator(task_id="spark", job={JOB | job!r}, profile={str(path)!r}, backend="emr_serverless",
                               retries=2, retry_delay=timedelta(0), poll_interval=0.5, interruption_backoff=0.05)
        """,
    )


def test_success(serverless_server: ServerlessMoto, serverless_conn: str, airflow_home: Path, tmp_path: Path) -> None:
    application = serverless_server.create_application("STOPPED")  # started by the submission
    play(serverless_server, [SUCCESS])
    result = run_serverless(airflow_home, tmp_path, "emrs_success", application)
    assert result.state == "success"
    out = result.xcom["spark"]
    assert out["backend"] == "emr_serverless" and out["outcome"] == "succeeded"
    assert out["emr_application_id"] == application == out["location"] and out["release_label"] == "emr-7.5.0"
    assert out["log_locations"]["s3"].endswith(f"/applications/{application}/jobs/{out['job_run_id']}/")
    assert out["billed_resource_utilization"] == {"vCPUHour": 0.0, "memoryGBHour": 0.0, "storageGBHour": 0.0}
    [run] = serverless_server.job_runs(application)
    assert run.id == out["job_run_id"] and (run.tags or {})["airflow-eks-data/attempt"] == "1"
    assert serverless_server.serverless.applications[application].state == "STARTED"


def test_user_error_fails_fast(
    serverless_server: ServerlessMoto, serverless_conn: str, airflow_home: Path, tmp_path: Path
) -> None:
    application = serverless_server.create_application()
    play(serverless_server, [USER_ERROR])
    result = run_serverless(airflow_home, tmp_path, "emrs_user_error", application)
    assert result.state == "failed" and result.tries["spark"] == 1
    assert len(serverless_server.job_runs(application)) == 1


def test_capacity_loss_is_resubmitted(
    serverless_server: ServerlessMoto, serverless_conn: str, airflow_home: Path, tmp_path: Path
) -> None:
    application = serverless_server.create_application()
    play(serverless_server, [CAPACITY, SUCCESS])
    result = run_serverless(airflow_home, tmp_path, "emrs_capacity", application)
    assert result.state == "success"
    assert [a["outcome"] for a in result.xcom["spark"]["attempts"]] == ["interrupted", "succeeded"]
    assert len(serverless_server.job_runs(application)) == 2
