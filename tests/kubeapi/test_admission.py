"""Admission against the pinned CRD: 422 with causes, pruning with a Warning, strict validation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config  # type: ignore[import-untyped,unused-ignore]
from kubernetes.client.rest import ApiException  # type: ignore[import-untyped,unused-ignore]

from tests.kubeapi.manifests import GROUP, PLURAL, VERSION, spark_app
from tests.kubeapi.scenarios import Hold
from tests.kubeapi.server import KubeApiServer


@pytest.fixture
def co(kube_api: KubeApiServer, spark_crd_path: Path) -> Iterator[client.CustomObjectsApi]:
    assert kube_api.admission is not None
    api = config.new_client_from_config(config_file=str(kube_api.kubeconfig_path))
    yield client.CustomObjectsApi(api)
    api.close()


def test_invalid_app_is_422_with_causes(co: client.CustomObjectsApi) -> None:
    body = spark_app("bad")
    body["spec"]["type"] = "Fortran"
    del body["spec"]["sparkVersion"]
    body["spec"]["driver"]["cores"] = 0
    with pytest.raises(ApiException) as exc:
        co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    assert exc.value.status == 422
    status = json.loads(exc.value.body)
    assert status["reason"] == "Invalid"
    assert status["message"].startswith('SparkApplication.sparkoperator.k8s.io "bad" is invalid: [')
    causes = {c["field"]: c for c in status["details"]["causes"]}
    assert causes["spec.sparkVersion"]["reason"] == "FieldValueRequired"
    assert causes["spec.type"]["reason"] == "FieldValueNotSupported"
    assert causes["spec.driver.cores"]["reason"] == "FieldValueInvalid"
    with pytest.raises(ApiException) as missing:
        co.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "bad")
    assert missing.value.status == 404


def test_unknown_fields_are_pruned_with_a_warning(kube_api: KubeApiServer, co: client.CustomObjectsApi) -> None:
    kube_api.script("p", Hold())
    body = spark_app("p")
    body["spec"]["labels"] = {"dag_id": "x"}  # what the cncf SparkKubernetesOperator adds
    body["spec"]["driver"]["template"] = {"metadata": {"labels": {"kept": "yes"}}, "anything": {"goes": 1}}
    created, code, headers = co.create_namespaced_custom_object_with_http_info(GROUP, VERSION, "default", PLURAL, body)
    assert code == 201
    assert "labels" not in created["spec"]
    assert created["spec"]["driver"]["template"]["anything"] == {"goes": 1}  # preserve-unknown-fields
    assert headers["Warning"] == '299 - "unknown field \\"spec.labels\\""'


def test_invalid_patch_is_rejected(kube_api: KubeApiServer, co: client.CustomObjectsApi) -> None:
    kube_api.script("q", Hold())
    co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("q"))
    with pytest.raises(ApiException) as exc:
        co.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "q", {"spec": {"mode": "sideways"}})
    assert exc.value.status == 422
    assert co.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "q")["spec"]["mode"] == "cluster"
