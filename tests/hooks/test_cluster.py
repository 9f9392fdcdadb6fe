"""`doctor` against the test API server and moto: a setup made from `platform render` passes every
check, and each broken setup fails its own check with the fix."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.cli import main
from airflow_eks_data.hooks.cluster import diagnose
from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.platform import render_platform
from airflow_eks_data.platform.doctor import CRD_NAME, DOCTOR_RULES, Check
from airflow_eks_data.platform.rbac import SUBMITTER_ROLE
from tests.emr.fixtures import create_virtual_cluster
from tests.emr.moto_serverless import ServerlessMoto
from tests.kubeapi.fixtures import KubeApiFactory
from tests.kubeapi.rbac import Rbac
from tests.kubeapi.server import KubeApiServer
from tests.platform.conftest import full_data


def doctor_role() -> list[dict[str, Any]]:
    meta = {"name": "airflow-eks-data-doctor"}
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": meta["name"]}
    return [
        {"kind": "ClusterRole", "metadata": meta, "rules": list(DOCTOR_RULES)},
        {"kind": "ClusterRoleBinding", "metadata": meta, "roleRef": ref, "subjects": [{"kind": "User", "name": "x"}]},
    ]


class Setup:
    """A tenant onboarded from `platform render`: its Role on the server, its NodePools applied, a
    virtual cluster and an application in moto."""

    def __init__(self, factory: KubeApiFactory, aws: ServerlessMoto, monkeypatch: pytest.MonkeyPatch) -> None:
        data = full_data()
        self.cluster = create_virtual_cluster(aws, "datalake")
        self.application = aws.create_application("CREATED")
        data["tenants"]["datalake"]["emr"]["virtual_cluster_id"] = self.cluster
        data["tenants"]["datalake"]["emr_serverless"]["application_id"] = self.application
        data["emr_serverless"]["release_label"] = "emr-7.5.0"
        self.data = data
        self.profile = PlatformProfile.model_validate(data)
        self.manifests = [m.body for m in render_platform(self.profile, "datalake").manifests]
        self.factory, self.aws, self.monkeypatch = factory, aws, monkeypatch

    def serve(self, drop_verb: str | None = None) -> KubeApiServer:
        documents = [dict(d) for d in self.manifests if d["kind"] in ("Role", "RoleBinding")]
        for role in documents:
            if role["kind"] == "Role" and role["metadata"]["name"] == SUBMITTER_ROLE and drop_verb:
                role["rules"] = [{**r, "verbs": [v for v in r["verbs"] if v != drop_verb]} for r in role["rules"]]
        server = self.factory(rbac=Rbac.from_documents([*documents, *doctor_role()]))
        for pool in (d for d in self.manifests if d["kind"] == "NodePool"):
            server.create("NodePool", pool)
        self.monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", server.airflow_connection_json())
        return server

    def checks(self) -> dict[str, Check]:
        return {check.name: check for check in diagnose(self.profile, ["datalake"])}


@pytest.fixture
def setup(
    kube_api_factory: KubeApiFactory, serverless_server: ServerlessMoto, serverless_conn: str, monkeypatch: Any
) -> Setup:
    return Setup(kube_api_factory, serverless_server, monkeypatch)


def failing(checks: dict[str, Check]) -> list[str]:
    return [name for name, check in checks.items() if not check.ok]


def test_a_rendered_setup_passes_every_check(setup: Setup, spark_crd_path: Any) -> None:
    setup.serve()
    checks = setup.checks()
    assert failing(checks) == [], [c.line() for c in checks.values()]
    assert set(checks) == {
        "Spark Operator CRD",
        "datalake: Airflow's access in namespace datalake",
        "datalake: NodePool for driver pods",
        "datalake: NodePool for executor pods",
        f"datalake: EMR virtual cluster {setup.cluster}",
        f"datalake: EMR Serverless application {setup.application}",
    }


def test_a_missing_verb_fails_the_access_check(setup: Setup, spark_crd_path: Any) -> None:
    setup.serve(drop_verb="watch")
    checks = setup.checks()
    assert failing(checks) == ["datalake: Airflow's access in namespace datalake"]
    assert "watch sparkapplications" in checks[failing(checks)[0]].detail


def test_a_missing_crd_fails_its_check(setup: Setup, spark_crd_path: Any) -> None:
    server = setup.serve()
    server.delete("CustomResourceDefinition", CRD_NAME, namespace="")
    checks = setup.checks()
    assert failing(checks) == ["Spark Operator CRD"] and "install" in checks["Spark Operator CRD"].fix


def test_no_matching_node_pool_fails_the_role_it_leaves_out(setup: Setup, spark_crd_path: Any) -> None:
    server = setup.serve()
    for pool in server.list("NodePool"):
        requirements = pool["spec"]["template"]["spec"]["requirements"]
        for requirement in requirements:
            if requirement["key"] == "karpenter.sh/capacity-type":
                requirement["values"] = ["on-demand"]  # no spot: executors pin spot
        server.delete("NodePool", pool["metadata"]["name"], namespace="")
        server.create(
            "NodePool",
            {k: v for k, v in pool.items() if k != "status"} | {"metadata": {"name": pool["metadata"]["name"]}},
        )
    checks = setup.checks()
    assert failing(checks) == ["datalake: NodePool for executor pods"]
    assert "karpenter.sh/capacity-type In spot" in checks[failing(checks)[0]].detail


def test_a_virtual_cluster_not_running_fails_its_check(setup: Setup, spark_crd_path: Any) -> None:
    setup.serve()
    setup.aws.backend.virtual_clusters[setup.cluster].state = "TERMINATED"
    checks = setup.checks()
    assert failing(checks) == [f"datalake: EMR virtual cluster {setup.cluster}"]


def test_a_full_queue_is_reported(setup: Setup, spark_crd_path: Any) -> None:
    setup.serve()
    setup.aws.set_scheduler(setup.cluster, {"maxConcurrentJobRuns": 1, "maxInQueueJobRuns": 2})
    emr = setup.aws.client("emr-containers")

    def start(n: int) -> str:
        return str(
            emr.start_job_run(
                name=f"j{n}",
                virtualClusterId=setup.cluster,
                clientToken=f"t{n}",
                executionRoleArn="arn:aws:iam::123456789012:role/emr-datalake",
                releaseLabel="emr-7.5.0-latest",
                jobDriver={"sparkSubmitJobDriver": {"entryPoint": "s3://example-artifacts/job.py"}},
            )["id"]
        )

    setup.aws.admit(start(0))
    start(1), start(2)
    check = setup.checks()[f"datalake: EMR virtual cluster {setup.cluster}"]
    assert not check.ok and "1 of 1 running, 2 of 2 queued" in check.detail


def test_a_read_the_identity_may_not_make_names_what_to_grant(
    setup: Setup, kube_api_factory: KubeApiFactory, monkeypatch: pytest.MonkeyPatch, spark_crd_path: Any
) -> None:
    documents = [d for d in setup.manifests if d["kind"] in ("Role", "RoleBinding")]
    server = kube_api_factory(rbac=Rbac.from_documents(documents))
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", server.airflow_connection_json())
    checks = setup.checks()
    assert "customresourcedefinitions.apiextensions.k8s.io" in checks["Spark Operator CRD"].fix
    assert "403" in checks["NodePools"].detail or "Forbidden" in checks["NodePools"].detail


def test_the_cli_prints_a_line_per_check_and_exits_1_on_a_failure(
    setup: Setup, spark_crd_path: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(setup.data))
    setup.serve(drop_verb="delete")
    out = io.StringIO()
    assert main(["doctor", str(path), "--tenant", "datalake"], out) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 7 and lines[-1] == "5 passed, 1 failed"
    assert any(
        line.startswith("FAIL  datalake: Airflow's access") and "delete sparkapplications" in line for line in lines
    )
    out = io.StringIO()
    assert main(["doctor", str(path), "--skip", "kubernetes", "--tenant", "datalake"], out) == 0
    assert out.getvalue().splitlines()[-1] == "2 passed, 0 failed"
    assert main(["doctor", str(path), "--tenant", "nobody"], io.StringIO()) == 1
    assert "--tenant" in capsys.readouterr().err
