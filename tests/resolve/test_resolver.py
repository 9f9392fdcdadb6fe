from __future__ import annotations

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.outcomes.policy import escalation_for
from airflow_eks_data.resolve import resolve


def _job(job: SparkJob, **changes: object) -> SparkJob:
    return SparkJob.from_dict({**job.model_dump(exclude_none=True), **changes})


def test_origins_say_which_layer_set_each_value(job: SparkJob, profile: PlatformProfile) -> None:
    resolved = resolve(job, profile)
    assert resolved.origin("executor.memory") == "job:compact-events"
    assert resolved.origin("spark_conf[spark.decommission.enabled]") == "profile:compaction"
    assert resolved.origin("interruption_retries") == "profile:compaction"
    assert resolved.origin("placement.executor.capacity") == "profile:compaction"
    assert resolved.namespace == "datalake" and resolved.service_account == "spark-datalake"


def test_job_capacity_and_arch_override_the_profile(job: SparkJob, profile: PlatformProfile) -> None:
    resolved = resolve(_job(job, capacity="on-demand", arch="amd64"), profile)
    assert resolved.executor_placement.capacity == "on-demand"
    assert resolved.driver_placement.arch == resolved.executor_placement.arch == "amd64"
    assert resolved.origin("placement.driver.arch") == "job:compact-events"


def test_escalation_moves_later_attempts_to_on_demand(job: SparkJob, profile: PlatformProfile) -> None:
    settings = resolve(job, profile).retry_settings()
    assert settings.executors_on_demand_after == 2 and settings.interruption_retries == 3
    assert resolve(job, profile, escalation=escalation_for(1, settings)).executor_placement.capacity == "spot"
    escalated = resolve(job, profile, escalation=escalation_for(2, settings))
    assert escalated.executor_placement.capacity == "on-demand"
    assert escalated.origin("placement.executor.capacity") == "escalation"


def test_operator_arguments_override_retry_settings(job: SparkJob, profile: PlatformProfile) -> None:
    settings = resolve(job, profile).retry_settings(interruption_retries=0, retry_on_failure=None)
    assert settings.interruption_retries == 0 and settings.retry_on_failure is False


def test_dynamic_allocation_is_bounded_by_the_tenant_cap(job: SparkJob, profile: PlatformProfile) -> None:
    resolved = resolve(_job(job, dynamic_allocation={"enabled": True, "min_executors": 2}), profile)
    assert resolved.dynamic_allocation is not None
    assert resolved.dynamic_allocation.max_executors == 200
    assert resolved.origin("dynamic_allocation.max_executors") == "tenant cap"


def test_every_problem_is_reported_at_once(job: SparkJob, profile: PlatformProfile) -> None:
    bad = _job(job, image="docker.io/x", executor={"instances": 999, "memory": "100g"}, labels={"team": "t"})
    with pytest.raises(SpecError) as caught:
        resolve(bad, profile)
    rules = {problem.rule.split(":")[0] for problem in caught.value.problems}
    assert rules == {"allowed-image", "max-executors", "max-memory", "required-label"}


def test_tenant_override_cannot_switch_tenants(job: SparkJob, profile: PlatformProfile) -> None:
    with pytest.raises(SpecError, match="tenant-mismatch"):
        resolve(job, profile, tenant="analytics")


def test_templated_image_is_checked_after_templating(job: SparkJob, profile: PlatformProfile) -> None:
    assert resolve(_job(job, image="{{ var.value.spark_image }}"), profile).image.startswith("{{")


def test_run_additions_never_override_a_layer(profile: PlatformProfile, job: SparkJob) -> None:
    from airflow_eks_data.resolve import RunAdditions

    # Lineage keys are the platform's: a profile that sets one keeps it; a job can't set them at all.
    mine = {"spark.openlineage.parentRunId": "from-the-profile"}
    platform = profile.model_copy(update={"spark_conf": {**(profile.spark_conf or {}), **mine}})
    additions = RunAdditions(
        labels={"airflow-eks-data/dag": "hourly"},
        spark_conf={"spark.openlineage.parentRunId": "injected", "spark.openlineage.parentJobName": "hourly.t"},
    )
    resolved = resolve(job, platform, additions=additions)
    assert resolved.spark_conf["spark.openlineage.parentRunId"] == "from-the-profile"
    assert resolved.spark_conf["spark.openlineage.parentJobName"] == "hourly.t"
    assert resolved.origin("spark_conf[spark.openlineage.parentJobName]") == "airflow run"
    assert resolved.origin("spark_conf[spark.openlineage.parentRunId]") == f"profile:{profile.name}"
    own = job.model_copy(update={"spark_conf": {**(job.spark_conf or {}), **mine}})
    with pytest.raises(SpecError, match="platform-key"):
        resolve(own, profile, additions=additions)
    assert resolved.labels["airflow-eks-data/dag"] == "hourly"
