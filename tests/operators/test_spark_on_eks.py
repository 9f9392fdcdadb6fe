"""`SparkOnEksOperator` end to end: real Airflow (`dag.test()`), the official clients over HTTP, and
the test API server playing the Spark Operator."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from airflow_eks_data.backends.base import Attempt
from airflow_eks_data.errors import SpecError
from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.triggers.events import app_state
from tests.conftest import PROFILE_PATH
from tests.dagrun import DagResult, run_dag
from tests.kubeapi.scenarios import DriverError, Hold, NodeLost, Outcome, SpotInterruption, Succeed
from tests.kubeapi.server import KubeApiServer

NAMESPACE = "datalake"


def job(scenario: str | None = None, **extra: Any) -> dict[str, Any]:
    """The job under test; `scenario` marks every attempt with one script (else script by name)."""
    labels = {"team": "data-platform", "cost-center": "cc-42"}
    if scenario:
        labels["kubeapi.test/scenario"] = scenario
    return {
        "name": "compact-events",
        "tenant": "datalake",
        "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
        "arguments": ["--table", "events", "--hour", "{{ data_interval_start.strftime('%Y-%m-%dT%H') }}"],
        "labels": labels,
        **extra,
    }


def script_attempts(server: KubeApiServer, *outcomes: Outcome, try_number: int = 1) -> None:
    """Attempt n of the task's try gets outcomes[n-1]: application names end in `-<try>-<attempt>`."""
    for attempt, outcome in enumerate(outcomes, start=1):
        server.script(f"compact-events-*-{try_number}-{attempt}", outcome)


def run(airflow_home: Path, dag_id: str, spec: dict[str, Any], retries: int = 0, **operator: Any) -> DagResult:
    arguments = {"interruption_backoff": 0.05, "poll_interval": 0.5, **operator}
    return run_dag(
        airflow_home,
        dag_id,
        f"""
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        with DAG({dag_id!r}, schedule=None, catchup=False):
            SparkOnEksOperator(task_id="spark", job={spec!r}, profile={str(PROFILE_PATH)!r}, retries={retries},
                               **{arguments!r})
        """,
    )


def applications(server: KubeApiServer) -> list[dict[str, Any]]:
    return server.list("SparkApplication", namespace=NAMESPACE)


@pytest.fixture
def cluster(kube_api: KubeApiServer, kube_conn: str, airflow_home: Path) -> KubeApiServer:
    return kube_api


def script(server: KubeApiServer, name: str, *outcomes: Outcome) -> str:
    server.script(name, *outcomes)
    return name


def test_success(cluster: KubeApiServer, airflow_home: Path) -> None:
    result = run(airflow_home, "so_success", job(script(cluster, "ok", Succeed())))
    assert result.state == "success"
    out = result.xcom["spark"]
    assert out["outcome"] == "succeeded" and out["state"] == "COMPLETED"
    assert out["interruptions"] == 0 and len(out["attempts"]) == 1
    assert out["backend"] == "spark_operator" and out["namespace"] == NAMESPACE
    [app] = applications(cluster)
    assert app["metadata"]["name"] == out["name"]
    assert app["spec"]["arguments"][3].count("T") == 1  # templated at run time


def test_user_error_fails_fast_without_spending_retries(cluster: KubeApiServer, airflow_home: Path) -> None:
    result = run(airflow_home, "so_user_error", job(script(cluster, "bad", DriverError(exit_code=1))), retries=2)
    assert result.state == "failed"
    assert result.tries["spark"] == 1
    assert len(applications(cluster)) == 1


def test_spot_interruption_is_resubmitted(cluster: KubeApiServer, airflow_home: Path) -> None:
    script_attempts(cluster, SpotInterruption(), Succeed())
    result = run(airflow_home, "so_spot", job())
    assert result.state == "success"
    out = result.xcom["spark"]
    assert out["interruptions"] == 1
    assert [a["outcome"] for a in out["attempts"]] == ["interrupted", "succeeded"]
    assert [a["action"] for a in out["attempts"]] == ["resubmit", "succeed"]
    assert len(applications(cluster)) == 2


def test_node_lost_is_resubmitted(cluster: KubeApiServer, airflow_home: Path) -> None:
    script_attempts(cluster, NodeLost(unknown_for=1.0), Succeed())
    result = run(airflow_home, "so_node_lost", job())
    assert result.state == "success"
    assert result.xcom["spark"]["interruptions"] == 1


def test_pending_capacity_is_not_a_failure(cluster: KubeApiServer, airflow_home: Path) -> None:
    result = run(airflow_home, "so_pending", job(script(cluster, "slow", Succeed(pending_for=40.0))))
    assert result.state == "success"


def test_worker_death_after_create_reattaches(cluster: KubeApiServer, airflow_home: Path) -> None:
    """Try 1 dies between creating its application and deferring; try 2 adopts it, creates nothing."""
    cluster.script("compact-events-*", Succeed(run_for=20.0))
    result = run_dag(
        airflow_home,
        "so_worker_death",
        f"""
        from datetime import timedelta
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        class DiesAfterCreate(SparkOnEksOperator):
            def _wait(self, context, state):
                if context["ti"].try_number == 1:
                    raise SystemExit("worker killed after create, before defer")
                return super()._wait(context, state)

        with DAG("so_worker_death", schedule=None, catchup=False):
            DiesAfterCreate(task_id="spark", job={job()!r}, profile={str(PROFILE_PATH)!r}, retries=1,
                            retry_delay=timedelta(0), poll_interval=0.5)
        """,
    )
    assert result.state == "success"
    assert result.tries["spark"] == 2
    [app] = applications(cluster)
    assert app["metadata"]["name"] == result.xcom["spark"]["name"]
    assert app["metadata"]["labels"]["airflow-eks-data/try"] == "1"


def test_token_expiry_mid_wait_is_survived(
    kube_api_factory: Any, airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server: KubeApiServer = kube_api_factory(token_auth=True)
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", server.airflow_connection_json())
    server.script("compact-events-*", Succeed(pending_for=1.0, run_for=60.0))

    def rotate_once_running() -> None:
        # Mid-wait the token expires, and its replacement reaches the kubeconfig a moment later,
        # as with an exec plugin or a rotated file: meanwhile every request is answered 401.
        server.wait_for(lambda: "RUNNING" in [app_state(a) for a in applications(server)], timeout=120)
        server.tokens.expire()
        server.wait_for(lambda: server.tokens.rejected > 0, timeout=60)
        server.rotate_token()

    rotation = threading.Thread(target=rotate_once_running, daemon=True)
    rotation.start()
    result = run(airflow_home, "so_token", job())
    rotation.join(timeout=5)
    assert result.state == "success"
    assert server.tokens.rejected > 0


def test_faults_still_reach_the_right_outcome(cluster: KubeApiServer, airflow_home: Path) -> None:
    cluster.faults.seed(7)
    cluster.faults.error(500, rate=0.1)
    cluster.faults.throttle(rate=0.1, retry_after=1)
    cluster.faults.cut_watches(after_events=2)
    script_attempts(cluster, SpotInterruption(), Succeed())
    result = run(airflow_home, "so_faults", job())
    assert result.state == "success"
    assert [a["outcome"] for a in result.xcom["spark"]["attempts"]] == ["interrupted", "succeeded"]
    assert len(applications(cluster)) == 2


def test_on_kill_deletes_the_application(cluster: KubeApiServer) -> None:
    cluster.script("compact-events-*", Hold())
    operator = SparkOnEksOperator(task_id="spark", job=job(), profile=PROFILE_PATH, deferrable=False)
    prepared = prepare(job(), PROFILE_PATH, app_name="compact-events-kill")
    operator._run = operator.backend_impl.submit(prepared, Attempt("key", 1, 1))
    cluster.wait_for_state("compact-events-kill", "RUNNING", namespace=NAMESPACE)
    operator.on_kill()
    cluster.wait_for(lambda: not applications(cluster) and not cluster.list("Pod", namespace=NAMESPACE))


def test_a_wrong_job_fails_at_parse_time() -> None:
    with pytest.raises(SpecError, match=r"executor\.memory"):
        SparkOnEksOperator(task_id="spark", job=job(executor={"memory": "4gb"}), profile=PROFILE_PATH)


def test_extra_links_resolve_from_xcom(cluster: KubeApiServer, airflow_home: Path) -> None:
    """Airflow serves an extra link from the XCom named by the link's `xcom_key`."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_eks_data.links.spark import SparkHistoryLink, SparkUiLink

    cluster.script("compact-events-*", Succeed())
    out = run(airflow_home, "so_links", job()).xcom["spark"]
    assert out["spark_ui_url"] == f"https://spark.example.com/datalake/{out['name']}/"
    assert out["history_url"] == f"https://spark-history.example.com/history/{out['application_id']}/"
    keys = {SparkUiLink().xcom_key: out["spark_ui_url"], SparkHistoryLink().xcom_key: out["history_url"]}
    with create_session() as session:
        rows = session.execute(
            select(XComModel.key, XComModel.value).where(XComModel.dag_id == "so_links", XComModel.key.in_(keys))
        ).all()
    assert {key: _xcom_value(value) for key, value in rows} == keys


def _xcom_value(stored: Any) -> Any:
    """XCom values are stored as JSON, except plain strings pushed by the task runner."""
    try:
        return json.loads(stored)
    except (TypeError, ValueError):
        return stored


def test_task_state_store_finds_the_run_without_labels(cluster: KubeApiServer, airflow_home: Path) -> None:
    """Try 1 records its application in Airflow's task state store, loses the labels, then dies."""
    cluster.script("compact-events-*", Succeed(run_for=20.0))
    result = run_dag(
        airflow_home,
        "so_state_store",
        f"""
        from datetime import timedelta
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        class ForgetsLabelsAndDies(SparkOnEksOperator):
            def _wait(self, context, state):
                if context["ti"].try_number == 1:
                    self.backend_impl.hook.custom_object_client.patch_namespaced_custom_object(
                        "sparkoperator.k8s.io", "v1beta2", state.run.location, "sparkapplications", state.run.name,
                        {{"metadata": {{"labels": {{"airflow-eks-data/task-key": None}}}}}},
                    )
                    raise SystemExit("worker killed after create, before defer")
                return super()._wait(context, state)

        with DAG("so_state_store", schedule=None, catchup=False):
            ForgetsLabelsAndDies(task_id="spark", job={job()!r}, profile={str(PROFILE_PATH)!r}, retries=1,
                                 retry_delay=timedelta(0), poll_interval=0.5)
        """,
    )
    assert result.state == "success"
    assert result.tries["spark"] == 2
    [app] = applications(cluster)
    assert "airflow-eks-data/task-key" not in app["metadata"]["labels"]
    assert app["metadata"]["name"] == result.xcom["spark"]["name"]
