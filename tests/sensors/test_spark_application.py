"""`SparkApplicationSensor` on applications submitted elsewhere, deferrable and poking, under `dag.test()`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dagrun import run_dag
from tests.kubeapi.scenarios import DriverError, Outcome, Succeed
from tests.kubeapi.server import KubeApiServer
from tests.triggers.test_spark_application import NAMESPACE, submit


@pytest.mark.parametrize("deferrable", [True, False])
@pytest.mark.parametrize(("outcome", "dag_state"), [(Succeed(), "success"), (DriverError(), "failed")])
def test_sensor(
    kube_api: KubeApiServer, kube_conn: str, airflow_home: Path, deferrable: bool, outcome: Outcome, dag_state: str
) -> None:
    kube_api.script("elsewhere", outcome)
    submit(kube_api, "elsewhere")
    dag_id = f"sensor_{deferrable}_{dag_state}"
    result = run_dag(
        airflow_home,
        dag_id,
        f"""
        from airflow.sdk import DAG
        from airflow_eks_data.sensors.spark_application import SparkApplicationSensor

        with DAG({dag_id!r}, schedule=None, catchup=False):
            SparkApplicationSensor(task_id="wait", application_name="elsewhere", namespace={NAMESPACE!r},
                                   deferrable={deferrable}, poke_interval=0.2, timeout=120)
        """,
    )
    assert result.state == dag_state
    assert kube_api.get("SparkApplication", "elsewhere", namespace=NAMESPACE) is not None
