"""`EmrEksJobRunSensor` on job runs started elsewhere, deferrable and poking, under `dag.test()`."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.dagrun import run_dag
from tests.emr.moto_emr import RELEASE_LABEL, ROLE_ARN, EmrMoto


def start_elsewhere(server: EmrMoto, vc: str) -> str:
    started = server.client("emr-containers").start_job_run(
        name="elsewhere",
        virtualClusterId=vc,
        clientToken="someone-else",
        executionRoleArn=ROLE_ARN,
        releaseLabel=RELEASE_LABEL,
        jobDriver={"sparkSubmitJobDriver": {"entryPoint": "s3://bucket/job.py"}},
    )
    return str(started["id"])


@pytest.mark.parametrize("deferrable", [True, False])
@pytest.mark.parametrize(
    ("state", "reason", "dag_state"), [("COMPLETED", None, "success"), ("FAILED", "USER_ERROR", "failed")]
)
def test_sensor(
    moto_server: EmrMoto,
    aws_conn: str,
    virtual_cluster: str,
    airflow_home: Path,
    deferrable: bool,
    state: str,
    reason: str | None,
    dag_state: str,
) -> None:
    run_id = start_elsewhere(moto_server, virtual_cluster)
    finish = threading.Timer(1.0, moto_server.set_state, (run_id, state, reason, "driver exited 1" if reason else None))
    finish.start()
    dag_id = f"emr_sensor_{deferrable}_{dag_state}"
    try:
        result = run_dag(
            airflow_home,
            dag_id,
            f"""
            from airflow.sdk import DAG
            from airflow_eks_data.sensors.emr_job_run import EmrEksJobRunSensor

            with DAG({dag_id!r}, schedule=None, catchup=False):
                EmrEksJobRunSensor(task_id="wait", virtual_cluster_id={virtual_cluster!r}, job_run_id={run_id!r},
                                   deferrable={deferrable}, poke_interval=0.3, timeout=60)
            """,
        )
    finally:
        finish.join()
    assert result.state == dag_state
    if deferrable and dag_state == "success":
        assert result.xcom["wait"]["outcome"] == "succeeded"
        assert result.xcom["wait"]["job_run_id"] == run_id
    assert moto_server.state(run_id) == state  # never cancelled by the sensor


def test_killed_sensor_does_not_cancel(moto_server: EmrMoto, aws_conn: str, virtual_cluster: str) -> None:
    import asyncio
    import time

    from airflow_eks_data.sensors.emr_job_run import EmrEksJobRunSensor

    run_id = start_elsewhere(moto_server, virtual_cluster)
    sensor = EmrEksJobRunSensor(task_id="wait", virtual_cluster_id=virtual_cluster, job_run_id=run_id, timeout=5)
    from airflow.sdk.exceptions import TaskDeferred

    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert trigger.cancel_on_kill is False and trigger.deadline <= time.time() + 5
    asyncio.run(trigger.on_kill())
    assert moto_server.state(run_id) == "RUNNING"
