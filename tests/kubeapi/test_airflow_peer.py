"""The cncf-kubernetes provider's own ``SparkKubernetesOperator`` runs to success against the server.

Nobody here wrote that operator, so it checks that the server (and the simulated operator) is
faithful enough for real client code: create, status polling, driver pod wait, log follow, delete.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.kubeapi.scenarios import DriverError, Succeed
from tests.kubeapi.server import KubeApiServer

DAG_FILE = textwrap.dedent(
    """
    import pendulum
    from airflow.sdk import DAG
    from airflow.providers.cncf.kubernetes.operators.spark_kubernetes import SparkKubernetesOperator

    SPEC = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": "{name}", "namespace": "spark-jobs"},
        "spec": {
            "type": "Python",
            "mode": "cluster",
            "image": "spark:3.5.5",
            "mainApplicationFile": "local:///opt/spark/examples/src/main/python/pi.py",
            "sparkVersion": "3.5.5",
            "restartPolicy": {"type": "Never"},
            "driver": {"cores": 1, "memory": "512m", "serviceAccount": "spark"},
            "executor": {"cores": 1, "instances": 2, "memory": "512m"},
        },
    }

    with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
        SparkKubernetesOperator(
            task_id="pi",
            namespace="spark-jobs",
            template_spec=SPEC,
            kubernetes_conn_id="kubernetes_default",
            get_logs=True,
            delete_on_termination=True,
            startup_timeout_seconds=60,
        )
    """
)


def _write_dag(airflow_home: Path, dag_id: str, app_name: str) -> None:
    source = DAG_FILE.replace("{dag_id}", dag_id).replace("{name}", app_name)
    (airflow_home / "dags" / f"{dag_id}.py").write_text(source)


def _run(dag_id: str) -> str:
    from airflow.utils.cli import get_bagged_dag

    dag_run = get_bagged_dag(None, dag_id).test()
    return str(dag_run.state)


def test_spark_kubernetes_operator_succeeds(airflow_home: Path, kube_api: KubeApiServer, kube_conn: str) -> None:
    # pending_for=0: the driver is Running before the operator's first status poll, which
    # otherwise sleeps a fixed 10 s while the state is SUBMITTED.
    kube_api.script("peer-pi*", Succeed(pending_for=0, run_for=2))
    _write_dag(airflow_home, "kubeapi_peer_success", "peer-pi")

    assert _run("kubeapi_peer_success") == "success"

    # It followed the driver's log, judged the pod Succeeded, then deleted the SparkApplication,
    # whose driver and executor pods went with it (ownerReferences).
    assert kube_api.counters[("create", "sparkapplications")] == 1
    assert kube_api.counters[("get", "pods/log")] >= 1
    assert kube_api.counters[("delete", "sparkapplications")] == 1
    assert kube_api.list("sparkapplications", "spark-jobs") == []
    assert kube_api.list("pods", "spark-jobs") == []


def test_spark_kubernetes_operator_fails_on_driver_error(
    airflow_home: Path, kube_api: KubeApiServer, kube_conn: str
) -> None:
    kube_api.script("peer-bad*", DriverError(pending_for=0, run_for=1, exit_code=2))
    _write_dag(airflow_home, "kubeapi_peer_failure", "peer-bad")

    assert _run("kubeapi_peer_failure") == "failed"
    apps = kube_api.counters[("create", "sparkapplications")]
    assert apps == 1
