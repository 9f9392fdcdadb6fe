"""Karpenter NodePools and EC2NodeClass: they admit every pod the profile's placement renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.platform.karpenter import karpenter_manifests
from airflow_eks_data.validate.crd import crd_problems
from tests.platform.conftest import ProfileFactory


def pools(profile: PlatformProfile) -> dict[str, dict[str, Any]]:
    return {m.name: m.body for m in karpenter_manifests(profile) if m.kind == "NodePool"}


def requirements(pool: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    return {r["key"]: (r["operator"], r["values"]) for r in pool["spec"]["template"]["spec"]["requirements"]}


def test_pools_follow_the_placement(full_profile: PlatformProfile) -> None:
    found = pools(full_profile)
    assert sorted(found) == ["compaction-driver", "compaction-executor"]
    driver, executor = requirements(found["compaction-driver"]), requirements(found["compaction-executor"])
    # Drivers on on-demand; executors on spot, and on-demand too: jobs may choose it, escalation moves them.
    assert driver["karpenter.sh/capacity-type"] == ("In", ["on-demand"])
    assert executor["karpenter.sh/capacity-type"] == ("In", ["on-demand", "spot"])
    assert driver["kubernetes.io/arch"] == executor["kubernetes.io/arch"] == ("In", ["arm64"])
    assert executor["karpenter.k8s.aws/instance-local-nvme"] == ("Gt", ["300"])
    assert "karpenter.k8s.aws/instance-local-nvme" not in driver  # the NVMe volume is the executors' only
    assert executor["topology.kubernetes.io/zone"] == ("In", ["eu-west-1a", "eu-west-1b"])
    assert executor["karpenter.k8s.aws/instance-family"] == ("In", ["m6gd", "r6gd"])
    assert executor["kubernetes.io/os"] == ("In", ["linux"])
    assert found["compaction-executor"]["spec"]["disruption"] == {
        "consolidationPolicy": "WhenEmpty",
        "consolidateAfter": "60s",
    }


def test_node_class(full_profile: PlatformProfile) -> None:
    (node_class,) = [m.body for m in karpenter_manifests(full_profile) if m.kind == "EC2NodeClass"]
    assert node_class["metadata"]["name"] == "compaction"
    assert node_class["spec"] == {
        "role": "KarpenterNodeRole-lake",
        "amiSelectorTerms": [{"alias": "al2023@latest"}],
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "lake"}}],
        "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "lake"}}],
        "instanceStorePolicy": "RAID0",
    }
    for pool in pools(full_profile).values():
        assert pool["spec"]["template"]["spec"]["nodeClassRef"] == {
            "group": "karpenter.k8s.aws",
            "kind": "EC2NodeClass",
            "name": "compaction",
        }


def test_without_nvme_no_raid_and_no_nvme_requirement(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["local_storage"].pop("nvme")
        data["placement"]["executor"].pop("min_local_nvme_gb")
        data["karpenter"].update(instance_profile="lake-nodes", node_class="spark")
        data["karpenter"].pop("node_role")

    profile = make_profile(edit)
    (node_class,) = [m.body for m in karpenter_manifests(profile) if m.kind == "EC2NodeClass"]
    assert "instanceStorePolicy" not in node_class["spec"]
    assert node_class["spec"]["instanceProfile"] == "lake-nodes" and node_class["metadata"]["name"] == "spark"
    assert all("karpenter.k8s.aws/instance-local-nvme" not in requirements(p) for p in pools(profile).values())


def test_a_shared_pool_admits_both_roles(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["placement"]["driver"]["node_pool"] = data["placement"]["executor"]["node_pool"] = "spark"
        data["local_storage"]["nvme"]["roles"] = ["driver", "executor"]

    found = pools(make_profile(edit))
    assert list(found) == ["spark"]
    shared = requirements(found["spark"])
    assert shared["karpenter.sh/capacity-type"] == ("In", ["on-demand", "spot"])
    # The driver mounts the volume too (Gt 0), the executors need more than 300 GB: the pool admits both.
    assert shared["karpenter.k8s.aws/instance-local-nvme"] == ("Gt", ["0"])


def test_pinned_capacity_everywhere_keeps_executors_on_it(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        for tenant in data["tenants"].values():
            tenant.setdefault("pinned", {})["capacity"] = "spot"

    executor = requirements(pools(make_profile(edit))["compaction-executor"])
    assert executor["karpenter.sh/capacity-type"] == ("In", ["spot"])


def test_each_tenant_architecture_is_admitted(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["tenants"]["analytics"]["arch"] = "amd64"

    for pool in pools(make_profile(edit)).values():
        assert requirements(pool)["kubernetes.io/arch"] == ("In", ["amd64", "arm64"])


def test_node_selector_becomes_requirements_or_node_labels(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["placement"]["executor"]["node_selector"] = {
            "node.kubernetes.io/instance-type": "m6gd.4xlarge",
            "workload": "spark",
        }

    pool = pools(make_profile(edit))["compaction-executor"]
    assert requirements(pool)["node.kubernetes.io/instance-type"] == ("In", ["m6gd.4xlarge"])
    assert pool["spec"]["template"]["metadata"] == {"labels": {"workload": "spark"}}


@pytest.mark.parametrize("key", ["karpenter.sh/capacity-type", "karpenter.sh/nodepool", "kubernetes.io/hostname"])
def test_selector_keys_placement_owns_are_refused(make_profile: ProfileFactory, key: str) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["placement"]["executor"]["node_selector"] = {key: "x"}

    profile = make_profile(edit)
    with pytest.raises(SpecError, match=rf"placement.executor.node_selector\[{key}\]: 'x': karpenter: set this"):
        karpenter_manifests(profile)


def test_bad_pool_name_is_refused(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["placement"]["executor"]["node_pool"] = "Spark_Pool"

    profile = make_profile(edit)
    with pytest.raises(SpecError, match=r"placement.executor.node_pool: 'Spark_Pool': a NodePool name"):
        karpenter_manifests(profile)


def test_karpenter_settings_are_checked_when_the_profile_loads(make_profile: ProfileFactory) -> None:
    def both(data: dict[str, Any]) -> None:
        data["karpenter"]["instance_profile"] = "x"

    with pytest.raises(SpecError, match="exactly one of node_role and instance_profile"):
        make_profile(both)

    def windows(data: dict[str, Any]) -> None:
        data["karpenter"]["ami_alias"] = "windows2022@latest"

    with pytest.raises(SpecError, match=r"karpenter\.ami_alias"):
        make_profile(windows)


def test_against_the_pinned_crds(full_profile: PlatformProfile, karpenter_crds: Path) -> None:
    files = {"NodePool": "karpenter.sh_nodepools.yaml", "EC2NodeClass": "karpenter.k8s.aws_ec2nodeclasses.yaml"}
    manifests = karpenter_manifests(full_profile)
    assert {m.kind for m in manifests} == set(files)
    for manifest in manifests:
        assert crd_problems(manifest.body, karpenter_crds / files[manifest.kind], version="v1") == []
