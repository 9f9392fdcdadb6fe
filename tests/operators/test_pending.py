"""Pending explained through the operator (`dag.test()`): a profile with `fail_fast_on_unschedulable`
fails the task at `pending_explain_after`, with the explanation, instead of waiting out `startup_timeout`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROFILE_PATH
from tests.dagrun import run_dag
from tests.kubeapi.server import KubeApiServer
from tests.operators.test_spark_on_eks import applications, job


def profile_file(directory: Path, **settings: Any) -> Path:
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile.update(settings)
    path = directory / "pending-profile.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


def run(airflow_home: Path, dag_id: str, profile: Path, scenario: str, retries: int) -> Any:
    return run_dag(
        airflow_home,
        dag_id,
        f"""
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        with DAG({dag_id!r}, schedule=None, catchup=False):
            SparkOnEksOperator(task_id="spark", job={job(scenario)!r}, profile={str(profile)!r},
                               retries={retries}, poll_interval=0.5)
        """,
    )


def test_fail_fast_fails_the_task_with_the_explanation(
    kube_api: KubeApiServer, kube_conn: str, airflow_home: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    profile = profile_file(tmp_path, pending_explain_after=1, fail_fast_on_unschedulable=True, startup_timeout="1h")
    result = run(airflow_home, "pending_fail_fast", profile, "no-nodepool", retries=2)
    output = capfd.readouterr()
    text = output.out + output.err
    assert result.state == "failed"
    assert result.tries["spark"] == 1, "no NodePool matches: waiting cannot help, so Airflow retries are not spent"
    assert "driver pod compact-events-" in text and "no Karpenter NodePool matches (requirements arch=arm64" in text
    assert "failed: driver cannot be scheduled (no_node): no Karpenter NodePool matches" in text
    # The wait ended with the application still pending: the operator deleted it.
    kube_api.wait_for(lambda: not applications(kube_api))


def test_without_fail_fast_the_wait_goes_on_past_the_explanation(
    kube_api: KubeApiServer, kube_conn: str, airflow_home: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Explained at 1 s, the attempt still runs until `startup_timeout` (3 s) ends it as timed out."""
    profile = profile_file(tmp_path, pending_explain_after=1, startup_timeout=3)
    result = run(airflow_home, "pending_explained", profile, "queue-full", retries=0)
    output = capfd.readouterr()
    text = output.out + output.err
    assert result.state == "failed"
    assert text.count("does not admit it yet") >= 1
    assert "pods got no capacity within startup_timeout (3s)" in text
    kube_api.wait_for(lambda: not applications(kube_api))  # the timed-out attempt was cancelled
