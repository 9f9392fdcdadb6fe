"""`platform render` output applies cleanly: every object is created, in the order rendered, through the
official `kubernetes` client against the test API server (which answers 404 for a namespace that does
not exist yet), and reads back as rendered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, utils  # type: ignore[import-untyped,unused-ignore]

from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.platform import render_platform
from airflow_eks_data.platform.scheduling import YUNIKORN_NAMESPACE
from tests.kubeapi.fixtures import KubeApiFactory
from tests.kubeapi.server import KubeApiServer
from tests.platform.conftest import ProfileFactory

CUSTOM = {"karpenter.sh", "karpenter.k8s.aws", "scheduling.volcano.sh"}


@pytest.fixture
def server(kube_api_factory: KubeApiFactory) -> KubeApiServer:
    return kube_api_factory(auto_namespaces=False)


@pytest.fixture
def api(server: KubeApiServer) -> Iterator[Any]:
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig_path))
    yield api_client
    api_client.close()


def apply(api: Any, documents: list[dict[str, Any]]) -> None:
    for body in documents:
        group, _, version = body["apiVersion"].rpartition("/")
        if group in CUSTOM:
            plural = {"NodePool": "nodepools", "EC2NodeClass": "ec2nodeclasses", "Queue": "queues"}[body["kind"]]
            client.CustomObjectsApi(api).create_cluster_custom_object(group, version, plural, body)
        else:
            utils.create_from_dict(api, body)


def yunikorn_installed(api: Any) -> None:
    """YuniKorn's own namespace, where its queue ConfigMap lives (the platform installs YuniKorn there)."""
    client.CoreV1Api(api).create_namespace({"metadata": {"name": YUNIKORN_NAMESPACE}})


def test_the_example_profile_applies(profile: PlatformProfile, server: KubeApiServer, api: Any) -> None:
    documents = render_platform(profile).documents()
    yunikorn_installed(api)
    apply(api, documents)
    for body in documents:
        meta = body["metadata"]
        stored = server.get(body["kind"], meta["name"], meta.get("namespace", ""))
        assert stored is not None, f"{body['kind']} {meta['name']} was not stored"
        assert {k: v for k, v in stored.items() if k != "metadata"} == {
            k: v for k, v in body.items() if k != "metadata"
        }
        assert stored["metadata"]["labels"] == meta["labels"]


def test_every_kind_applies(make_profile: ProfileFactory, server: KubeApiServer, api: Any) -> None:
    """Karpenter's objects and both schedulers' queues too (YuniKorn's own namespace exists where it runs)."""

    def schedulers(data: dict[str, Any]) -> None:
        if _has_batch_scheduler():
            data["tenants"]["datalake"]["batch_scheduler"] = {"name": "volcano"}
            data["tenants"]["analytics"]["batch_scheduler"] = {"name": "yunikorn"}

    documents = render_platform(make_profile(schedulers)).documents()
    yunikorn_installed(api)
    apply(api, documents)
    kinds = {body["kind"] for body in documents}
    expected = {"Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
    expected |= {"ResourceQuota", "LimitRange", "NodePool", "EC2NodeClass"}
    if _has_batch_scheduler():
        expected |= {"Queue", "ConfigMap"}
    assert expected <= kinds
    for body in documents:
        meta = body["metadata"]
        assert server.get(body["kind"], meta["name"], meta.get("namespace", "")) is not None


def test_out_of_order_a_namespaced_object_is_refused(profile: PlatformProfile, api: Any) -> None:
    """The order matters, and the server checks it: a Role before its Namespace is a 404."""
    documents = [body for body in render_platform(profile, "datalake").documents() if body["kind"] != "Namespace"]
    with pytest.raises(utils.FailToCreateError) as caught:
        apply(api, documents[2:3])
    assert caught.value.api_exceptions[0].status == 404


def _has_batch_scheduler() -> bool:
    from airflow_eks_data.jobspec.profile import Tenant

    return "batch_scheduler" in Tenant.model_fields
