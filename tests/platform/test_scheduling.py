"""Batch-scheduler queues: a Volcano Queue, or the tenant's leaf in YuniKorn's queue ConfigMap, sized
from the same footprint as the namespace's quota."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from airflow_eks_data.jobspec.profile import Tenant
from airflow_eks_data.platform import render_platform
from airflow_eks_data.platform.quotas import resource_quota
from tests.platform.conftest import ProfileFactory

pytestmark = pytest.mark.skipif(
    "batch_scheduler" not in Tenant.model_fields, reason="the profile has no batch_scheduler field yet"
)


def queues(data: dict[str, Any]) -> None:
    data["tenants"]["datalake"]["batch_scheduler"] = {"name": "volcano"}
    data["tenants"]["analytics"]["batch_scheduler"] = {"name": "yunikorn", "queue": "root.spark.analytics"}


def test_volcano_queue_has_the_tenants_capability(make_profile: ProfileFactory) -> None:
    profile = make_profile(queues)
    (queue,) = [m.body for m in render_platform(profile).manifests if m.kind == "Queue"]
    hard = resource_quota(profile, "datalake", profile.tenants["datalake"])
    assert queue["apiVersion"] == "scheduling.volcano.sh/v1beta1"
    assert queue["metadata"]["name"] == "datalake"  # the tenant's namespace when it names no queue
    assert queue["spec"] == {
        "weight": 1,
        "capability": {"cpu": hard["requests.cpu"], "memory": hard["requests.memory"]},
    }


def test_yunikorn_queue_tree(make_profile: ProfileFactory) -> None:
    profile = make_profile(queues)
    (configmap,) = [m for m in render_platform(profile).manifests if m.kind == "ConfigMap"]
    assert (configmap.name, configmap.namespace) == ("yunikorn-configs", "yunikorn")
    config = yaml.safe_load(configmap.body["data"]["queues.yaml"])
    (partition,) = config["partitions"]
    assert partition["placementrules"] == [{"name": "provided", "create": False}]
    (root,) = partition["queues"]
    (spark,) = root["queues"]
    (leaf,) = spark["queues"]
    hard = resource_quota(profile, "analytics", profile.tenants["analytics"])
    assert (spark["name"], leaf["name"]) == ("spark", "analytics")
    assert leaf["resources"] == {"max": {"vcore": hard["requests.cpu"], "memory": hard["requests.memory"]}}
    assert "replaces YuniKorn's whole queue tree" in configmap.notes[0]


def test_yunikorn_configmap_holds_every_tenant_whichever_is_asked(make_profile: ProfileFactory) -> None:
    def both_yunikorn(data: dict[str, Any]) -> None:
        data["batch_scheduler"] = {"name": "yunikorn"}

    profile = make_profile(both_yunikorn)
    bodies = []
    for tenant in (None, "datalake", "analytics"):
        (configmap,) = [m for m in render_platform(profile, tenant).manifests if m.kind == "ConfigMap"]
        bodies.append(configmap.body)
    assert bodies[0] == bodies[1] == bodies[2]
    root = yaml.safe_load(bodies[0]["data"]["queues.yaml"])["partitions"][0]["queues"][0]
    assert sorted(queue["name"] for queue in root["queues"]) == ["analytics", "datalake"]  # root.<namespace>


def test_tenants_sharing_a_volcano_queue_share_one_object(make_profile: ProfileFactory) -> None:
    def shared(data: dict[str, Any]) -> None:
        data["batch_scheduler"] = {"name": "volcano", "queue": "batch"}

    profile = make_profile(shared)
    (queue,) = [m.body for m in render_platform(profile).manifests if m.kind == "Queue"]
    (alone,) = [m.body for m in render_platform(profile, "analytics").manifests if m.kind == "Queue"]
    assert queue == alone
    cpu = sum(int(resource_quota(profile, n, t)["requests.cpu"]) for n, t in profile.tenants.items())
    assert queue["spec"]["capability"]["cpu"] == str(cpu)


def test_no_scheduler_no_queue(make_profile: ProfileFactory) -> None:
    kinds = {m.kind for m in render_platform(make_profile()).manifests}
    assert not {"Queue", "ConfigMap"} & kinds
