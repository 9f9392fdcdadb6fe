"""The resolved batch scheduler: layers, defaults, origins, and what a job can never reach."""

from __future__ import annotations

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import SparkJob
from airflow_eks_data.resolve import resolve
from tests.batch_profiles import batch_profile

ANALYTICS_JAR = "s3://example-artifacts/analytics/compaction.jar"


def _job(job: SparkJob, **changes: object) -> SparkJob:
    return SparkJob.from_dict({**job.model_dump(exclude_none=True), **changes})


def test_no_batch_scheduler_resolves_to_none(job: SparkJob) -> None:
    assert resolve(job, batch_profile(None)).batch_scheduler is None


def test_profile_and_tenant_layers_with_their_origins(job: SparkJob) -> None:
    profile = batch_profile({"name": "yunikorn", "gang": True}, {"datalake": {"queue": "root.spark.datalake"}})
    resolved = resolve(job, profile)
    batch = resolved.batch_scheduler
    assert batch is not None
    assert (batch.name, batch.queue, batch.gang, batch.gang_style) == ("yunikorn", "root.spark.datalake", True, "Hard")
    assert resolved.origin("batch_scheduler.name") == "profile:compaction"
    assert resolved.origin("batch_scheduler.gang") == "profile:compaction"
    assert resolved.origin("batch_scheduler.queue") == "tenant:datalake"
    assert resolved.origin("batch_scheduler.gang_style") == "built-in"


@pytest.mark.parametrize(("name", "queue"), [("yunikorn", "root.datalake"), ("volcano", "datalake")])
def test_the_default_queue_is_the_tenants_namespace(job: SparkJob, name: str, queue: str) -> None:
    resolved = resolve(job, batch_profile({"name": name}))
    assert resolved.batch_scheduler is not None
    assert (resolved.batch_scheduler.queue, resolved.batch_scheduler.gang) == (queue, False)
    assert resolved.origin("batch_scheduler.queue") == "built-in"


def test_a_tenant_alone_can_ask_for_a_batch_scheduler(job: SparkJob) -> None:
    resolved = resolve(job, batch_profile(None, {"datalake": {"name": "volcano", "queue": "datalake-batch"}}))
    assert resolved.batch_scheduler is not None and resolved.batch_scheduler.queue == "datalake-batch"
    assert resolved.origin("batch_scheduler.name") == "tenant:datalake"


def test_the_pinned_priority_class_is_the_schedulers_when_none_is_given(job: SparkJob) -> None:
    analytics = _job(job, tenant="analytics", labels={"team": "analytics"}, main_application_file=ANALYTICS_JAR)
    resolved = resolve(analytics, batch_profile({"name": "yunikorn"}))
    assert resolved.batch_scheduler is not None
    assert resolved.batch_scheduler.priority_class == "analytics-batch"
    assert resolved.origin("batch_scheduler.priority_class") == "tenant:analytics (pinned)"


@pytest.mark.parametrize(
    "key",
    [
        "spark.kubernetes.scheduler.name",
        "spark.kubernetes.driver.scheduler.name",
        "spark.kubernetes.driver.annotation.yunikorn.apache.org/task-groups",
        "spark.kubernetes.executor.annotation.yunikorn.apache.org/queue",
        "spark.kubernetes.driver.label.queue",
        "SPARK.KUBERNETES.SCHEDULER.NAME",
    ],
)
def test_a_job_cannot_pick_the_scheduler_through_spark_conf(job: SparkJob, key: str) -> None:
    profile = batch_profile({"name": "yunikorn", "gang": True})
    with pytest.raises(SpecError) as caught:
        resolve(_job(job, spark_conf={key: "default-scheduler"}), profile)
    [problem] = caught.value.problems
    assert problem.path == f"spark_conf[{key}]"
    assert problem.rule.startswith("platform-key")


@pytest.mark.parametrize("key", ["yunikorn.apache.org/queue", "yunikorn.apache.org/task-group-name"])
def test_a_job_cannot_label_its_way_into_a_queue(job: SparkJob, key: str) -> None:
    labels = {"team": "t", "cost-center": "c", key: "root.production"}
    with pytest.raises(SpecError, match="reserved-label"):
        resolve(_job(job, labels=labels), batch_profile({"name": "yunikorn"}))


def test_the_legacy_queue_label_is_reserved_under_yunikorn(job: SparkJob) -> None:
    labelled = _job(job, labels={"team": "t", "cost-center": "c", "queue": "root.production"})
    with pytest.raises(SpecError) as caught:
        resolve(labelled, batch_profile({"name": "yunikorn"}))
    [problem] = caught.value.problems
    assert (problem.path, problem.value) == ("labels.queue", "root.production")
    assert problem.rule.startswith("reserved-label: YuniKorn reads the application's queue from it")
    assert "'root.datalake'" in problem.rule
    # Without YuniKorn the label means nothing to a scheduler and stays the job's.
    assert resolve(labelled, batch_profile(None)).labels["queue"] == "root.production"
    assert resolve(labelled, batch_profile({"name": "volcano"})).labels["queue"] == "root.production"
