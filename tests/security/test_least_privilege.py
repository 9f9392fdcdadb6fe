"""Least privilege: the Role in docs/security/spark-operator-role.yaml is enough for every Spark Operator
path (submit, resubmit after a spot interruption, a failed run and its log tail, on_kill's delete, the
sensor), with the test API server answering 403 to anything it does not grant, and every permission
it grants is used. The EMR on EKS policy names only real emr-containers operations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.backends.base import Attempt
from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator
from airflow_eks_data.pipeline import prepare
from tests.conftest import PROFILE_PATH, REPO
from tests.dagrun import DagResult, run_dag
from tests.kubeapi.rbac import Rbac
from tests.kubeapi.scenarios import DriverError, Hold, SpotInterruption, Succeed
from tests.kubeapi.server import KubeApiServer
from tests.operators.test_spark_on_eks import NAMESPACE, applications, job, run, script_attempts
from tests.security.conftest import serving
from tests.triggers.test_spark_application import submit

ROLE = REPO / "docs" / "security" / "spark-operator-role.yaml"
POLICY = REPO / "docs" / "security" / "emr-on-eks-policy.json"


def documents(path: Path = ROLE) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def sensor_run(airflow_home: Path, dag_id: str, name: str, deferrable: bool) -> DagResult:
    return run_dag(
        airflow_home,
        dag_id,
        f"""
        from airflow.sdk import DAG
        from airflow_eks_data.sensors.spark_application import SparkApplicationSensor

        with DAG({dag_id!r}, schedule=None, catchup=False):
            SparkApplicationSensor(task_id="wait", application_name={name!r}, namespace={NAMESPACE!r},
                                   deferrable={deferrable}, poke_interval=0.2, timeout=120)
        """,
    )


def kill_running(server: KubeApiServer, name: str) -> SparkOnEksOperator:
    """Submit through the operator's backend, wait until it runs, then call on_kill (a user's kill)."""
    server.script(name, Hold())
    operator = SparkOnEksOperator(task_id="spark", job=job(), profile=PROFILE_PATH, deferrable=False)
    operator._run = operator.backend_impl.submit(prepare(job(), PROFILE_PATH, app_name=name), Attempt("key", 1, 1))
    server.wait_for_state(name, "RUNNING", namespace=NAMESPACE)
    operator.on_kill()
    return operator


@dataclass
class Paths:
    server: KubeApiServer
    rbac: Rbac
    results: dict[str, DagResult]


@pytest.fixture(scope="module")
def enforced(airflow_home: Path) -> Iterator[Paths]:
    """Every path, once, against a server enforcing the published Role."""
    rbac = Rbac.load(ROLE)
    with serving(rbac=rbac) as server:
        results: dict[str, DagResult] = {}
        server.script("ok", Succeed(log_lines=("INFO compacted 200 files into 3",)))
        results["success"] = run(airflow_home, "lp_success", job("ok"))
        script_attempts(server, SpotInterruption(), Succeed())
        results["spot"] = run(airflow_home, "lp_spot", job())
        server.script("bad", DriverError())
        results["user error"] = run(airflow_home, "lp_user_error", job("bad"))
        kill_running(server, "compact-events-killed")
        server.wait_for(lambda: server.get("SparkApplication", "compact-events-killed", NAMESPACE) is None)
        for deferrable in (True, False):
            name = f"elsewhere-{str(deferrable).lower()}"
            server.script(name, Succeed())
            submit(server, name)
            results[f"sensor deferrable={deferrable}"] = sensor_run(
                airflow_home, f"lp_{name}".replace("-", "_"), name, deferrable
            )
        yield Paths(server, rbac, results)


def test_each_path_reached_its_outcome(enforced: Paths) -> None:
    results = enforced.results
    assert results["success"].state == "success"
    assert results["spot"].state == "success" and results["spot"].xcom["spark"]["interruptions"] == 1
    assert results["user error"].state == "failed" and results["user error"].tries["spark"] == 1
    assert results["sensor deferrable=True"].state == "success"
    assert results["sensor deferrable=False"].state == "success"


def test_no_request_was_forbidden(enforced: Paths) -> None:
    assert enforced.rbac.denied == []
    assert enforced.rbac.allowed, "the Role was not enforced on any request"


def test_every_granted_permission_is_used(enforced: Paths) -> None:
    """Nothing in the published Role is there for nothing."""
    assert enforced.rbac.unused() == set()


def test_log_tail_was_read_under_the_role(enforced: Paths) -> None:
    reads = [r for r in enforced.rbac.allowed if r.resource == "pods/log"]
    assert reads and all(r.namespace == NAMESPACE for r in reads)


def test_without_delete_on_kill_is_forbidden(kube_api_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes.client.exceptions import ApiException  # type: ignore[import-untyped,unused-ignore]

    docs = documents()
    role = next(doc for doc in docs if doc["kind"] == "Role")
    for rule in role["rules"]:
        if "sparkapplications" in rule["resources"]:
            rule["verbs"] = [verb for verb in rule["verbs"] if verb != "delete"]
    rbac = Rbac.from_documents(docs)
    server: KubeApiServer = kube_api_factory(rbac=rbac)
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", server.airflow_connection_json())
    with pytest.raises(ApiException) as caught:
        kill_running(server, "compact-events-unkillable")
    assert caught.value.status == 403
    status = json.loads(caught.value.body)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Forbidden", 403)
    assert 'cannot delete resource "sparkapplications" in API group "sparkoperator.k8s.io"' in status["message"]
    assert [(r.verb, r.resource) for r in rbac.denied] == [("delete", "sparkapplications")]
    assert [app["metadata"]["name"] for app in applications(server)] == ["compact-events-unkillable"]


def test_without_the_evidence_cluster_role_interruptions_are_still_told(
    kube_api_factory: Any, airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ClusterRole is optional: node reads answered 403 are left out of the evidence."""
    rbac = Rbac.from_documents([doc for doc in documents() if doc["kind"] in ("Role", "RoleBinding")])
    server: KubeApiServer = kube_api_factory(rbac=rbac)
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", server.airflow_connection_json())
    script_attempts(server, SpotInterruption(), Succeed())
    result = run(airflow_home, "lp_spot_no_cluster_role", job())
    assert result.state == "success"
    assert [a["outcome"] for a in result.xcom["spark"]["attempts"]] == ["interrupted", "succeeded"]
    assert {r.resource for r in rbac.denied} <= {"nodes", "events"} and rbac.denied


def test_emr_policy_names_real_operations() -> None:
    import botocore.session

    operations = set(botocore.session.get_session().get_service_model("emr-containers").operation_names)
    policy = json.loads(POLICY.read_text())
    actions = [
        action
        for statement in policy["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    ]
    emr = [action.split(":", 1)[1] for action in actions if action.startswith("emr-containers:")]
    assert sorted(emr) == ["CancelJobRun", "DescribeJobRun", "ListJobRuns", "StartJobRun"]
    assert set(emr) <= operations
    assert {action.split(":")[0] for action in actions} == {"emr-containers", "s3"}
