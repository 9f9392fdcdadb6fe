"""The doctor's checks, pure: each broken setup fails its own check and names the fix."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from airflow_eks_data.jobspec.profile import PlatformProfile
from airflow_eks_data.platform.doctor import (
    Access,
    access_check,
    application_check,
    crd_check,
    node_pool_check,
    pod_requirements,
    refusal,
    submitter_access,
    virtual_cluster_check,
)
from airflow_eks_data.render.pod_template import ARCH_KEY, CAPACITY_KEY, NVME_KEY


def pool(name: str, *requirements: dict[str, Any], taints: list[dict[str, str]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"requirements": list(requirements)}
    if taints:
        spec["taints"] = taints
    return {"metadata": {"name": name}, "spec": {"template": {"spec": spec}}}


def req(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


SPOT_ARM_NVME = pool(
    "spark-executors",
    req(CAPACITY_KEY, "In", "spot", "on-demand"),
    req(ARCH_KEY, "In", "arm64"),
    req(NVME_KEY, "Gt", "100"),
)


def test_the_submitter_is_asked_for_every_call_of_the_backend() -> None:
    asked = {str(access) for access in submitter_access()}
    assert {"create sparkapplications.sparkoperator.k8s.io", "watch sparkapplications.sparkoperator.k8s.io"} <= asked
    assert "get pods/log" in asked and "list events" in asked


def test_a_missing_verb_fails_the_access_check_naming_it_and_the_role() -> None:
    answers = {access: access.verb != "delete" for access in submitter_access()}
    check = access_check("datalake", "datalake", answers)
    assert not check.ok and "delete sparkapplications" in check.detail
    assert "airflow-spark-submitter" in check.fix and "--tenant datalake" in check.fix
    assert access_check("datalake", "datalake", dict.fromkeys(submitter_access(), True)).ok


def test_the_crd_check(crd_path: Any) -> None:
    pinned = yaml.safe_load(crd_path.read_text())
    check = crd_check(pinned)
    assert check.ok and "v1beta2" in check.detail and "controller-gen v0.17.1" in check.detail
    missing = crd_check(None)
    assert not missing.ok and "not installed" in missing.detail and "Spark Operator" in missing.fix
    old = yaml.safe_load(crd_path.read_text())
    del old["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["driver"][
        "properties"
    ]["template"]
    assert not crd_check(old).ok and ">= 2.0" in crd_check(old).detail


def test_pods_carry_the_placement_of_the_profile_and_tenant(profile: PlatformProfile) -> None:
    executor = {
        (r.key, r.operator): set(r.values) for r in pod_requirements(profile, profile.tenants["datalake"], "executor")
    }
    assert executor[CAPACITY_KEY, "In"] == {"spot"} and executor[ARCH_KEY, "In"] == {"arm64"}
    assert executor[NVME_KEY, "Gt"] == {"300"}
    driver = {
        (r.key, r.operator): set(r.values) for r in pod_requirements(profile, profile.tenants["datalake"], "driver")
    }
    assert driver[CAPACITY_KEY, "In"] == {"on-demand"} and (NVME_KEY, "Gt") not in driver


@pytest.mark.parametrize(
    ("candidate", "why"),
    [
        (SPOT_ARM_NVME, None),
        (pool("amd", req(CAPACITY_KEY, "In", "spot"), req(ARCH_KEY, "In", "amd64")), "kubernetes.io/arch"),
        (pool("no-arch", req(CAPACITY_KEY, "In", "spot")), "kubernetes.io/arch"),  # Karpenter's default: amd64
        (pool("on-demand-only", req(ARCH_KEY, "In", "arm64")), "capacity-type"),  # default: on-demand
        (
            pool(
                "small-disks", req(CAPACITY_KEY, "In", "spot"), req(ARCH_KEY, "In", "arm64"), req(NVME_KEY, "Lt", "200")
            ),
            "nvme",
        ),
        (
            pool(
                "tainted",
                req(CAPACITY_KEY, "In", "spot"),
                req(ARCH_KEY, "In", "arm64"),
                taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}],
            ),
            "taint gpu",
        ),
    ],
)
def test_a_pool_admits_the_executors_or_says_why_not(
    profile: PlatformProfile, candidate: dict[str, Any], why: str | None
) -> None:
    reason = refusal(candidate, pod_requirements(profile, profile.tenants["datalake"], "executor"), [])
    assert reason is None if why is None else why in str(reason)


def test_node_pool_check(profile: PlatformProfile) -> None:
    assert node_pool_check(profile, "datalake", "executor", [SPOT_ARM_NVME]).ok
    none = node_pool_check(profile, "datalake", "driver", [SPOT_ARM_NVME])  # no NVMe needed, but arm64 on-demand is
    assert none.ok
    missing = node_pool_check(profile, "datalake", "executor", [])
    assert not missing.ok and "platform render" in missing.fix
    no_api = node_pool_check(profile, "datalake", "executor", None)
    assert not no_api.ok and "Karpenter" in no_api.fix


def test_virtual_cluster_state_and_queue() -> None:
    running = {"state": "RUNNING"}
    assert virtual_cluster_check("datalake", "vc", running).ok
    assert not virtual_cluster_check("datalake", "vc", None).ok
    terminated = virtual_cluster_check("datalake", "vc", {"state": "TERMINATED"})
    assert not terminated.ok and "TERMINATED" in terminated.detail
    config = {"maxConcurrentJobRuns": 10, "maxInQueueJobRuns": 100}
    light = virtual_cluster_check(
        "datalake", "vc", {**running, "schedulerConfiguration": config, "schedulerStatus": {"currentInQueueJobRuns": 3}}
    )
    assert light.ok and "3 of 100 queued" in light.detail
    full = {"currentInQueueJobRuns": 95, "currentConcurrentJobRuns": 10}
    crowded = virtual_cluster_check(
        "datalake", "vc", {**running, "schedulerConfiguration": config, "schedulerStatus": full}
    )
    assert not crowded.ok and "95 of 100 queued" in crowded.detail and "maxInQueueJobRuns" in crowded.fix


def test_application_check() -> None:
    assert application_check("datalake", "app", {"state": "CREATED", "releaseLabel": "emr-7.5.0"}, "emr-7.5.0").ok
    assert not application_check("datalake", "app", None, None).ok
    assert not application_check("datalake", "app", {"state": "TERMINATED"}, None).ok
    wrong = application_check("datalake", "app", {"state": "STARTED", "releaseLabel": "emr-6.9.0"}, "emr-7.5.0")
    assert not wrong.ok and "emr-6.9.0" in wrong.detail


def test_a_line_per_check() -> None:
    check = access_check("datalake", "datalake", {Access("create", "sparkoperator.k8s.io", "sparkapplications"): False})
    assert check.line().startswith("FAIL  datalake: Airflow's access in namespace datalake: denied: create")
    assert " -> apply Role" in check.line()
