"""The merged, checked job that every renderer reads: plain data, no defaults left to apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from airflow_eks_data.jobspec.job import Deps
from airflow_eks_data.jobspec.profile import EbsStorage, EphemeralStorage, NvmeStorage, PlatformProfile, Tenant
from airflow_eks_data.jobspec.settings import EscalationSettings
from airflow_eks_data.outcomes.policy import RetrySettings
from airflow_eks_data.resolve.pod_requests import PodRequest

BUILTIN = "built-in"
"""Origin of values the package sets itself (labels it owns, restart policy, derived names)."""


@dataclass(frozen=True)
class RunAdditions:
    """What the operator adds for one submission, after the guardrails: labels naming the Airflow task
    instance (for cost tools) and keys such as OpenLineage's parent run. Spark keys a layer set win."""

    labels: dict[str, str] = field(default_factory=dict)
    spark_conf: dict[str, str] = field(default_factory=dict)
    origin: str = "airflow run"


@dataclass(frozen=True)
class Resources:
    cores: int
    memory: str
    memory_overhead: str | None


@dataclass(frozen=True)
class ResolvedPlacement:
    capacity: str | None
    arch: str | None
    min_local_nvme_gb: int | None
    node_pool: str | None
    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]


class AllocationBounds(NamedTuple):
    min_executors: int
    max_executors: int


@dataclass(frozen=True)
class ResolvedBatchScheduler:
    """The profile's and the tenant's `batch_scheduler` together, defaults applied. Origins live in the
    job's `origins` under `batch_scheduler.<field>`."""

    name: str
    queue: str
    gang: bool
    priority_class: str | None
    placeholder_timeout_seconds: int | None
    gang_style: str


@dataclass(frozen=True)
class ResolvedJob:
    """A job after merge and guardrails. `origins` maps a setting's path to the layer that set it."""

    job_name: str
    app_name: str
    tenant_name: str
    namespace: str
    service_account: str
    type: str
    main_application_file: str
    main_class: str | None
    arguments: list[str]
    image: str
    spark_version: str
    driver: Resources
    executor: Resources
    executor_instances: int
    dynamic_allocation: AllocationBounds | None
    spark_conf: dict[str, str]
    hadoop_conf: dict[str, str]
    env: dict[str, str]
    labels: dict[str, str]
    deps: Deps
    driver_placement: ResolvedPlacement
    executor_placement: ResolvedPlacement
    same_zone: bool
    local_storage: str
    nvme: NvmeStorage | None
    ebs: EbsStorage | None
    ephemeral_storage: EphemeralStorage | None
    inputs: list[str]
    outputs: list[str]
    timeout: int | None
    startup_timeout: int | None
    interruption_retries: int
    retry_on_failure: bool
    escalation: EscalationSettings | None
    profile: PlatformProfile
    tenant: Tenant
    origins: dict[str, str] = field(repr=False)
    batch_scheduler: ResolvedBatchScheduler | None = None
    pod_requests: dict[str, PodRequest] = field(default_factory=dict, repr=False)
    """What the driver and an executor pod request (`pod_requests.pod_request`), by role."""

    def retry_settings(self, **overrides: Any) -> RetrySettings:
        """The retry policy's settings from the merged job fields (operator arguments may override)."""
        escalation = self.escalation or EscalationSettings()
        settings: dict[str, Any] = {
            "interruption_retries": self.interruption_retries,
            "retry_on_failure": self.retry_on_failure,
            "executors_on_demand_after": escalation.executors_on_demand_after,
        }
        if escalation.driver_on_demand is not None:
            settings["driver_on_demand"] = escalation.driver_on_demand
        settings.update({key: value for key, value in overrides.items() if value is not None})
        if "backoff_base_seconds" in settings:  # a longer first delay keeps the cap above it
            settings.setdefault("backoff_cap_seconds", max(settings["backoff_base_seconds"], 600.0))
        return RetrySettings(**settings)

    def origin(self, path: str) -> str:
        """Layer that set `path` (a setting path such as `executor.memory` or `spark_conf[spark.x]`)."""
        return self.origins.get(path, BUILTIN)
