"""The settings a profile, a tenant and a job can all give; the later layer wins key by key."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from airflow_eks_data.jobspec.fields import ImageRef, Labels, Memory, Seconds, SparkVersion, StrictModel, StringMap

Capacity = Literal["spot", "on-demand"]
Arch = Literal["arm64", "amd64"]
LocalStorageKind = Literal["nvme", "ebs", "none"]


class DriverResources(StrictModel):
    cores: int | None = Field(None, ge=1, le=64, description="`spark.driver.cores`.")
    memory: Memory | None = Field(None, description="Driver JVM heap, e.g. `2g`.")
    memory_overhead: Memory | None = Field(None, description="Off-heap memory added to the pod request.")


class ExecutorResources(DriverResources):
    instances: int | None = Field(
        None, ge=0, le=10000, description="Executors when dynamic allocation is off (initial count when on)."
    )


class DynamicAllocation(StrictModel):
    enabled: bool | None = Field(None, description="Turn on Spark dynamic allocation (with shuffle tracking).")
    min_executors: int | None = Field(None, ge=0, le=10000, description="Lower bound on executors.")
    max_executors: int | None = Field(None, ge=1, le=10000, description="Upper bound on executors.")

    @model_validator(mode="after")
    def _bounds(self) -> DynamicAllocation:
        low, high = self.min_executors, self.max_executors
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_executors ({low}) must not exceed max_executors ({high})")
        return self


class EscalationSettings(StrictModel):
    """How later attempts are placed after interruptions, so an hourly SLA survives a spot storm."""

    executors_on_demand_after: int | None = Field(
        None, ge=1, description="After this many interruptions, executors go to on-demand capacity."
    )
    driver_on_demand: bool | None = Field(
        None, description="After any interruption, pin the driver to on-demand even if the profile did not."
    )


class JobSettings(StrictModel):
    """Fields shared by `PlatformProfile`, its tenants and `SparkJob`: defaults there, choices here."""

    image: ImageRef | None = Field(None, description="Container image for driver and executors (an OCI reference).")
    spark_version: SparkVersion | None = Field(None, description="Spark version of the image, e.g. `3.5.1`.")
    driver: DriverResources | None = Field(None, description="Driver cores and memory.")
    executor: ExecutorResources | None = Field(None, description="Executor cores, memory and count.")
    dynamic_allocation: DynamicAllocation | None = Field(None, description="Dynamic allocation bounds.")
    spark_conf: StringMap | None = Field(None, description="Spark properties; values are strings.")
    hadoop_conf: StringMap | None = Field(None, description="Hadoop properties (rendered as `spark.hadoop.*`).")
    env: StringMap | None = Field(None, description="Environment variables for driver and executors.")
    labels: Labels | None = Field(None, description="Kubernetes labels on the application and its pods.")
    capacity: Capacity | None = Field(None, description="Executor capacity type; the driver follows the profile.")
    arch: Arch | None = Field(None, description="CPU architecture of every pod (`kubernetes.io/arch`).")
    timeout: Seconds | None = Field(None, description="Give up (and cancel) after this long.")
    startup_timeout: Seconds | None = Field(
        None, description="How long pending capacity (pods not yet scheduled) is tolerated before failing."
    )
    interruption_retries: int | None = Field(
        None,
        ge=0,
        le=20,
        description="Resubmissions after spot interruptions, not counted as Airflow retries.",
    )
    retry_on_failure: bool | None = Field(
        None, description="Let Airflow retry application failures too (by default they fail fast)."
    )
    escalation: EscalationSettings | None = Field(None, description="Placement escalation after interruptions.")
