"""Profiles for `platform render`: the repository's example, and the example with every cluster-side
setting given (Karpenter, zones, IAM roles, a batch scheduler per tenant)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.jobspec import PlatformProfile
from tests.conftest import PROFILE_PATH, reference_file

KARPENTER = {
    "node_role": "KarpenterNodeRole-lake",
    "subnet_tags": {"karpenter.sh/discovery": "lake"},
    "security_group_tags": {"karpenter.sh/discovery": "lake"},
    "instance_families": ["m6gd", "r6gd"],
}
ROLE_ARN = "arn:aws:iam::123456789012:role/spark-{}"

ProfileFactory = Callable[..., PlatformProfile]


def example_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PROFILE_PATH.read_text())
    return data


def full_data() -> dict[str, Any]:
    """The example with every cluster-side setting, and no batch scheduler (tests add the one they need)."""
    data = example_data()
    data.pop("batch_scheduler", None)
    for tenant in data["tenants"].values():
        tenant.pop("batch_scheduler", None)
    data["karpenter"] = copy.deepcopy(KARPENTER)
    data["placement"]["zones"] = ["eu-west-1a", "eu-west-1b"]
    tenants = data["tenants"]
    tenants["datalake"]["iam_role_arn"] = ROLE_ARN.format("datalake")
    tenants["analytics"].update(iam_role_arn=ROLE_ARN.format("analytics"), pod_identity=True, max_local_storage="20Gi")
    return data


@pytest.fixture
def make_profile() -> ProfileFactory:
    """`make_profile(edit)`: the full profile after `edit(data)` changed its YAML data in place."""

    def make(edit: Callable[[dict[str, Any]], None] | None = None, base: str = "full") -> PlatformProfile:
        data = full_data() if base == "full" else example_data()
        if edit is not None:
            edit(data)
        return PlatformProfile.from_dict(data)

    return make


@pytest.fixture
def full_profile(make_profile: ProfileFactory) -> PlatformProfile:
    return make_profile()


@pytest.fixture
def karpenter_crds() -> Path:
    return reference_file("EKS_DATA_REFERENCE", "karpenter/v1.14.1")
