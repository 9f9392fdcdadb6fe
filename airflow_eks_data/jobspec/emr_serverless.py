"""EMR Serverless sections of a profile: the tenant's application and role, the platform's run settings.

The application (its network, capacity, image and release) is created by the platform outside this
package; a job run can only add what `StartJobRun` carries. Worker disks travel as
`spark.emr-serverless.*` properties, which only these settings write (`resolve/ownership.py`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from airflow_eks_data.jobspec.fields import StrictModel, StringMap

_DISK = re.compile(r"^([0-9]+)G$")
MAX_STANDARD_DISK = 200
MAX_SHUFFLE_OPTIMIZED_DISK = 2000


def _disk(value: str) -> str:
    match = _DISK.match(value)
    if not match or not 20 <= int(match.group(1)) <= MAX_SHUFFLE_OPTIMIZED_DISK:
        raise ValueError(f"a disk size in whole G from 20G to {MAX_SHUFFLE_OPTIMIZED_DISK}G, e.g. `100G`")
    return value


DiskSize = Annotated[str, AfterValidator(_disk)]


class TenantEmrServerless(StrictModel):
    application_id: str = Field(
        pattern=r"^[0-9a-z]{1,64}$", description="EMR Serverless application the tenant's jobs run on."
    )
    execution_role_arn: str = Field(description="IAM role the job runs as.")


class EmrServerlessRetryPolicy(StrictModel):
    """The service's own retries of one job run (`retryPolicy`), below the package's resubmits."""

    max_attempts: int | None = Field(None, ge=1, description="Attempts of a batch job run (the service's default: 1).")
    max_failed_attempts_per_hour: int | None = Field(
        None, ge=1, description="Failed attempts per hour before a streaming job run fails."
    )


class EmrServerlessMonitoring(StrictModel):
    s3_log_uri: str | None = Field(None, description="S3 URI the driver's and executors' logs are copied to.")
    cloudwatch_log_group: str | None = Field(
        None, description="CloudWatch Logs group; set, it turns CloudWatch logging on."
    )
    log_stream_prefix: str | None = Field(None, description="CloudWatch stream prefix.")
    managed_persistence: bool = Field(
        True, description="Keep logs and the Spark UI in the service's managed storage after the run ends."
    )

    @model_validator(mode="after")
    def _prefix_needs_a_group(self) -> EmrServerlessMonitoring:
        if self.log_stream_prefix and not self.cloudwatch_log_group:
            raise ValueError("log_stream_prefix needs a cloudwatch_log_group")
        return self


DiskType = Literal["standard", "shuffle_optimized"]


class EmrServerlessStorage(StrictModel):
    """Worker disks; a job's `local_storage` (Kubernetes volumes) does not apply on EMR Serverless."""

    driver_disk: DiskSize | None = Field(None, description="`spark.emr-serverless.driver.disk`, e.g. `50G`.")
    executor_disk: DiskSize | None = Field(None, description="`spark.emr-serverless.executor.disk`, e.g. `200G`.")
    driver_disk_type: DiskType | None = Field(None, description="`spark.emr-serverless.driver.disk.type`.")
    executor_disk_type: DiskType | None = Field(
        None, description="`spark.emr-serverless.executor.disk.type`: `shuffle_optimized` for shuffle-heavy jobs."
    )

    @model_validator(mode="after")
    def _standard_disk_limit(self) -> EmrServerlessStorage:
        for role in ("driver", "executor"):
            size, kind = getattr(self, f"{role}_disk"), getattr(self, f"{role}_disk_type")
            if size and kind != "shuffle_optimized" and int(size[:-1]) > MAX_STANDARD_DISK:
                raise ValueError(
                    f"{role}_disk: a standard disk is at most {MAX_STANDARD_DISK}G (shuffle_optimized: more)"
                )
        return self

    def properties(self) -> dict[str, str]:
        """The Spark properties EMR Serverless reads for these disks."""
        conf: dict[str, str] = {}
        for role in ("driver", "executor"):
            if getattr(self, f"{role}_disk"):
                conf[f"spark.emr-serverless.{role}.disk"] = getattr(self, f"{role}_disk")
            if getattr(self, f"{role}_disk_type"):
                conf[f"spark.emr-serverless.{role}.disk.type"] = getattr(self, f"{role}_disk_type")
        return conf


class EmrServerlessSettings(StrictModel):
    release_label: str | None = Field(
        None,
        pattern=r"^emr-[0-9]+\.[0-9]+\.[0-9]+$",
        description="Release the tenants' applications run, e.g. `emr-7.5.0`; a job run cannot change it, so the "
        "runner compares it with the application's before submitting (None: not compared).",
    )
    retry_policy: EmrServerlessRetryPolicy | None = Field(None, description="The service's retries of a job run.")
    monitoring: EmrServerlessMonitoring = Field(
        default_factory=EmrServerlessMonitoring, description="Logs: S3, CloudWatch, managed persistence."
    )
    storage: EmrServerlessStorage = Field(default_factory=EmrServerlessStorage, description="Worker disks.")
    tags: StringMap = Field(default_factory=dict, description="Tags on every job run.")
