"""ResourceQuota and LimitRange numbers: the tenant's caps through the pod request arithmetic jobs meet."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.platform.quotas import container_limits, cpu_quantity, footprint, memory_quantity, resource_quota
from tests.platform.conftest import ProfileFactory

GI_IN_MI = 1024


def test_datalake_quota_is_one_application_at_its_caps(profile: PlatformProfile) -> None:
    """200 executors (cap) x 64g (cap on the pod) + the default driver pod: heap 2g + Python overhead
    0.4 x 2048m = 819m; CPU 200 x 4 default cores + 1."""
    hard = resource_quota(profile, "datalake", profile.tenants["datalake"])
    memory = f"{200 * 64 * GI_IN_MI + 2048 + 819}Mi"
    assert hard == {
        "requests.cpu": "801",
        "requests.memory": memory,
        "limits.memory": memory,
        "pods": "201",
        # every pod's ephemeral-storage request (2Gi) and limit (10Gi) from the profile
        "requests.ephemeral-storage": "402Gi",
        "limits.ephemeral-storage": "2010Gi",
    }


def test_analytics_caps_both_pods(profile: PlatformProfile) -> None:
    hard = resource_quota(profile, "analytics", profile.tenants["analytics"])
    assert (hard["requests.memory"], hard["requests.cpu"], hard["pods"]) == (f"{50 * 32 + 16}Gi", "201", "51")


def test_applications_cores_and_conf_scale_the_quota(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        lake = data["tenants"]["datalake"]
        lake.update(max_applications=3, max_executor_cores=2, max_driver_memory="4g")
        lake["spark_conf"] = {"spark.kubernetes.driver.request.cores": "1500m"}

    profile = make_profile(edit)
    size = footprint(profile, "datalake", profile.tenants["datalake"])
    assert (size.applications, size.executors, size.executor.cores, size.driver.cores) == (3, 200, 2.0, 1.5)
    hard = resource_quota(profile, "datalake", profile.tenants["datalake"])
    assert hard["requests.cpu"] == cpu_quantity(3 * (1.5 + 200 * 2)) == "1204500m"
    assert hard["requests.memory"] == f"{3 * (4 + 200 * 64)}Gi"
    assert hard["pods"] == "603"


def test_without_a_cap_the_default_pods_and_count_are_used(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["tenants"]["datalake"].pop("max_executors")
        data["tenants"]["datalake"].pop("max_executor_memory")
        data["dynamic_allocation"] = {"enabled": True, "max_executors": 20}
        data["local_storage"].pop("ephemeral_storage")

    profile = make_profile(edit)
    size = footprint(profile, "datalake", profile.tenants["datalake"])
    # The profile's executor: 8g heap + 0.4 x 8192m overhead; 20 from dynamic allocation's maximum.
    assert (size.executors, size.executor.memory_kib // 1024) == (20, 8192 + 3276)
    hard = resource_quota(profile, "datalake", profile.tenants["datalake"])
    assert "requests.ephemeral-storage" not in hard


def test_limit_range_bounds_what_every_container_is_capped_by(
    profile: PlatformProfile, make_profile: ProfileFactory
) -> None:
    # datalake caps only executor memory: a LimitRange cannot bound executors without the driver.
    assert container_limits(profile, "datalake", profile.tenants["datalake"]) == {}
    assert container_limits(profile, "analytics", profile.tenants["analytics"]) == {"max": {"memory": "32Gi"}}
    full = make_profile()
    assert container_limits(full, "analytics", full.tenants["analytics"]) == {
        "max": {"memory": "32Gi", "ephemeral-storage": "20Gi"},
        "default": {"ephemeral-storage": "10Gi"},
        "defaultRequest": {"ephemeral-storage": "2Gi"},
    }


def test_an_ephemeral_limit_over_the_cap_is_refused(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["tenants"]["analytics"]["max_local_storage"] = "8Gi"

    profile = make_profile(edit)
    with pytest.raises(SpecError, match=r"local_storage.ephemeral_storage.limit: '10Gi': max-local-storage: tenant"):
        container_limits(profile, "analytics", profile.tenants["analytics"])


def test_bad_ephemeral_quantity_names_the_field(make_profile: ProfileFactory) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["local_storage"]["ephemeral_storage"] = {"request": "lots", "limit": "10Gi"}

    profile = make_profile(edit)
    with pytest.raises(SpecError, match=r"local_storage.ephemeral_storage: 'lots'"):
        resource_quota(profile, "datalake", profile.tenants["datalake"])


@pytest.mark.parametrize(
    ("kib", "text"), [(1024**3 * 13, "13Ti"), (1536 * 1024, "1536Mi"), (1024**2, "1Gi"), (100, "100Ki")]
)
def test_memory_quantity(kib: int, text: str) -> None:
    assert memory_quantity(kib) == text


@pytest.mark.parametrize(("cores", "text"), [(12.0, "12"), (1.5, "1500m"), (0.25, "250m")])
def test_cpu_quantity(cores: float, text: str) -> None:
    assert cpu_quantity(cores) == text
