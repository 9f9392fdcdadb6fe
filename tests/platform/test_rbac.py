"""The submitter Role `platform render` gives a tenant is the published one, and it is enough: the Spark
Operator backend submits and waits under exactly that Role on a server answering 403 to anything else,
and fails with a 403 naming the verb when one is taken away."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.backends.base import Attempt
from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.platform import render_platform
from airflow_eks_data.platform.rbac import EVIDENCE_ROLE, EVIDENCE_RULES, SUBMITTER_ROLE, SUBMITTER_RULES
from tests.conftest import PROFILE_PATH, REPO
from tests.kubeapi.fixtures import KubeApiFactory
from tests.kubeapi.rbac import Rbac
from tests.kubeapi.scenarios import Succeed
from tests.operators.test_spark_on_eks import NAMESPACE, job, run

PUBLISHED = REPO / "docs" / "security" / "spark-operator-role.yaml"


def submitter_documents(profile: PlatformProfile, drop: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """The rendered submitter Role and binding of the jobs' tenant, and the evidence ClusterRole; `drop`
    removes one (resource, verb)."""
    names = {SUBMITTER_ROLE, EVIDENCE_ROLE}
    documents = [m.body for m in render_platform(profile, "datalake").manifests if m.name in names]
    for document in documents:
        for rule in document.get("rules", []):
            if drop and drop[0] in rule["resources"] and document["kind"] == "Role":
                rule["verbs"] = [verb for verb in rule["verbs"] if verb != drop[1]]
    return documents


def test_published_role_is_the_rendered_one() -> None:
    published = {doc["kind"]: doc for doc in yaml.safe_load_all(PUBLISHED.read_text()) if doc}
    assert published["Role"]["metadata"]["name"] == SUBMITTER_ROLE
    assert published["Role"]["rules"] == list(SUBMITTER_RULES)
    assert published["ClusterRole"]["metadata"]["name"] == EVIDENCE_ROLE
    assert published["ClusterRole"]["rules"] == list(EVIDENCE_RULES)


def test_backend_runs_a_job_under_exactly_the_rendered_role(
    profile: PlatformProfile, kube_api_factory: KubeApiFactory, airflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = submitter_documents(profile)
    assert {(d["kind"], d["metadata"].get("namespace")) for d in documents} == {
        ("Role", NAMESPACE),
        ("RoleBinding", NAMESPACE),
        ("ClusterRole", None),
        ("ClusterRoleBinding", None),
    }
    rbac = Rbac.from_documents(documents)
    server = kube_api_factory(rbac=rbac)
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", server.airflow_connection_json())
    server.script("rendered-role", Succeed(log_lines=("INFO compacted 12 files into 1",)))
    result = run(airflow_home, "platform_rendered_role", job("rendered-role"))
    assert result.state == "success"
    assert rbac.denied == []
    used = {(r.verb, r.resource) for r in rbac.allowed}
    assert {("create", "sparkapplications"), ("get", "sparkapplications"), ("get", "pods/log")} <= used


def test_without_create_the_submission_is_forbidden_by_name(
    profile: PlatformProfile, kube_api_factory: KubeApiFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubernetes.client.exceptions import ApiException  # type: ignore[import-untyped,unused-ignore]

    rbac = Rbac.from_documents(submitter_documents(profile, drop=("sparkapplications", "create")))
    server = kube_api_factory(rbac=rbac)
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", server.airflow_connection_json())
    operator = SparkOnEksOperator(task_id="spark", job=job(), profile=PROFILE_PATH, deferrable=False)
    with pytest.raises(ApiException) as caught:
        operator.backend_impl.submit(prepare(job(), PROFILE_PATH, app_name="no-create"), Attempt("key", 1, 1))
    assert caught.value.status == 403
    message = json.loads(caught.value.body)["message"]
    assert 'cannot create resource "sparkapplications" in API group "sparkoperator.k8s.io"' in message
    assert f'in the namespace "{NAMESPACE}"' in message
    assert [(r.verb, r.resource) for r in rbac.denied] == [("create", "sparkapplications")]
    assert server.list("SparkApplication", namespace=NAMESPACE) == []
