"""`SparkOnEksOperator(backend="emr_on_eks")` end to end: real Airflow (`dag.test()`), boto3 and
aiobotocore over HTTP to moto's server, which plays EMR on EKS (a thread moves runs as EMR would)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml

from airflow_eks_data.backends.base import Attempt
from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator
from airflow_eks_data.pipeline import prepare
from tests.conftest import PROFILE_PATH
from tests.dagrun import DagResult, run_dag
from tests.emr.fixtures import boto_client
from tests.emr.moto_emr import REGION, ROLE_ARN, EmrMoto

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


JOB: dict[str, Any] = {
    "name": "compact-events",
    "tenant": "datalake",
    "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
    "labels": {"team": "data-platform", "cost-center": "cc-42"},
}


def profile_for(virtual_cluster: str, server: EmrMoto, tmp_path: Path, **emr: Any) -> Path:
    """The example profile pointed at the test's virtual cluster (`emr`: more `emr` settings), and its
    pod-template bucket."""
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile["tenants"]["datalake"]["emr"]["virtual_cluster_id"] = virtual_cluster
    profile["emr"] |= emr
    path = tmp_path / "compaction.yaml"
    path.write_text(yaml.safe_dump(profile))
    boto_client(server, "s3").create_bucket(
        Bucket="example-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return path


def run_emr(
    airflow_home: Path,
    tmp_path: Path,
    dag_id: str,
    virtual_cluster: str,
    server: EmrMoto,
    operator: str = "",
    *,
    job: dict[str, Any] = JOB,
    retries: int = 2,
    **emr: Any,
) -> DagResult:
    """`operator`: source defining a `SparkOnEksOperator` subclass named `Operator` (default: the real
    one); `emr`: profile settings."""
    path = profile_for(virtual_cluster, server, tmp_path, **emr)
    return run_dag(
        airflow_home,
        dag_id,
        f"""
        from datetime import timedelta
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        Operator = SparkOnEksOperator
        {operator}

        with DAG({dag_id!r}, schedule=None, catchup=False):
            Operator(task_id="spark", job={job!r}, profile={str(path)!r}, backend="emr_on_eks", retries={retries},
                     retry_delay=timedelta(0), poll_interval=0.5, interruption_backoff=0.05)
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


def test_a_full_queue_holds_the_attempt_until_it_runs_once(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path
) -> None:
    """StartJobRun refused as a full queue (maxInQueueJobRuns) past the worker's budget: the attempt
    waits in the triggerer and goes again with the same client token, until the queue takes it."""
    play(moto_server, [COMPLETED])
    moto_server.faults.fail_next("StartJobRun", "queue_full", times=5)
    result = run_emr(airflow_home, tmp_path, "emr_queue_full", virtual_cluster, moto_server, retries=0)
    assert result.state == "success" and result.tries["spark"] == 1
    [attempt] = result.xcom["spark"]["attempts"]
    assert attempt["attempt"] == 1 and attempt["outcome"] == "succeeded"
    assert moto_server.faults.calls["StartJobRun"] == 6  # 3 in the worker, held, 2 more, then taken
    assert len(moto_server.runs(virtual_cluster)) == 1


def test_worker_death_after_submit_reattaches(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path
) -> None:
    """Try 1 dies between StartJobRun and deferring; try 2 finds the run by its tags and adopts it."""
    play(moto_server, [COMPLETED])
    dies = """
        class Operator(SparkOnEksOperator):
            def _wait(self, context, state):
                if context["ti"].try_number == 1:
                    raise SystemExit("worker killed after submit, before defer")
                return super()._wait(context, state)
    """
    result = run_emr(airflow_home, tmp_path, "emr_worker_death", virtual_cluster, moto_server, dies)
    assert result.state == "success" and result.tries["spark"] == 2
    [run] = moto_server.runs(virtual_cluster)
    assert run.id == result.xcom["spark"]["job_run_id"]
    assert (run.tags or {})["airflow-eks-data/try"] == "1"


def test_throttling_and_5xx_at_20_percent_still_reach_the_right_outcome(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path
) -> None:
    play(moto_server, [LOST, COMPLETED])
    moto_server.faults.configure(0.2, ("throttle", "500", "503"), seed=11)
    result = run_emr(airflow_home, tmp_path, "emr_faults", virtual_cluster, moto_server)
    assert result.state == "success" and result.tries["spark"] == 1
    assert [a["outcome"] for a in result.xcom["spark"]["attempts"]] == ["interrupted", "succeeded"]
    assert len(moto_server.runs(virtual_cluster)) == 2
    assert sum(moto_server.faults.injected.values()) > 0


def test_on_kill_cancels_the_job_run(moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, tmp_path: Path) -> None:
    path = profile_for(virtual_cluster, moto_server, tmp_path)
    operator = SparkOnEksOperator(task_id="spark", job=JOB, profile=path, backend="emr_on_eks", deferrable=False)
    operator._run = operator.backend_impl.submit(
        prepare(JOB, path, target="emr_on_eks", app_name="compact-events-kill"), Attempt("key", 1, 1)
    )
    operator.on_kill()
    [run] = moto_server.runs(virtual_cluster)
    assert run.state in ("CANCEL_PENDING", "CANCELLED")


def test_a_job_template_starts_the_run(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path
) -> None:
    """The profile names a job template: the request carries only its parameters, and EMR (moto, with
    templates added) fills the template with them."""
    moto_server.add_job_template(
        "0a1b2c3d4e",
        {
            "executionRoleArn": ROLE_ARN,
            "releaseLabel": "emr-7.2.0-latest",
            "jobDriver": {
                "sparkSubmitJobDriver": {"entryPoint": "${EntryPoint}", "sparkSubmitParameters": "${Submit}"}
            },
        },
    )
    play(moto_server, [COMPLETED])
    parameters = {"EntryPoint": "{entry_point}", "Submit": "--conf spark.executor.memory={executor_memory}"}
    result = run_emr(
        airflow_home,
        tmp_path,
        "emr_job_template",
        virtual_cluster,
        moto_server,
        job_template_id="0a1b2c3d4e",
        job_template_parameters=parameters,
    )
    assert result.state == "success"
    [run] = moto_server.runs(virtual_cluster)
    assert run.release_label == "emr-7.2.0-latest"  # the template's, not the profile's
    driver: dict[str, Any] = run.job_driver["sparkSubmitJobDriver"]  # type: ignore[index,assignment]
    assert driver["entryPoint"] == JOB["main_application_file"]
    assert driver["sparkSubmitParameters"].startswith("--conf spark.executor.memory=")


def test_the_job_timeout_cancels_the_run(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, airflow_home: Path, tmp_path: Path
) -> None:
    """A run past the job's `timeout` is cancelled before the task fails: no orphan keeps running."""
    job = {**JOB, "timeout": 3}
    result = run_emr(airflow_home, tmp_path, "emr_timeout", virtual_cluster, moto_server, job=job, retries=0)
    assert result.state == "failed"
    [run] = moto_server.runs(virtual_cluster)
    assert run.state in ("CANCEL_PENDING", "CANCELLED")
