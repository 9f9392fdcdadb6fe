"""The example profile with a chosen batch scheduler, for the batch-scheduling tests of every layer."""

from __future__ import annotations

import copy
from typing import Any

from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.jobspec.yaml12 import read_yaml
from tests.conftest import PROFILE_PATH


def batch_profile(
    batch: dict[str, Any] | None, tenants: dict[str, dict[str, Any]] | None = None, **changes: Any
) -> PlatformProfile:
    """The example profile with exactly this batch scheduler (`None`: none), these tenants' parts of it,
    and other top-level `changes`."""
    data = copy.deepcopy(read_yaml(PROFILE_PATH))
    data.pop("batch_scheduler", None)
    for tenant in data["tenants"].values():
        tenant.pop("batch_scheduler", None)
    if batch is not None:
        data["batch_scheduler"] = batch
    for name, part in (tenants or {}).items():
        data["tenants"][name]["batch_scheduler"] = part
    data.update(changes)
    return PlatformProfile.from_dict(data)
