"""Batch scheduling rendered: the SparkApplication's batch scheduler and YuniKorn's task groups, checked
against the pinned CRD and the tenant's caps; spark-submit's keys; EMR left as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.jobspec.quantities import memory_kib
from airflow_eks_data.render.batch_scheduling import cpu_quantity, memory_quantity
from airflow_eks_data.render.emr_on_eks import render_emr_job_run
from airflow_eks_data.render.emr_serverless import render_emr_serverless_job_run
from airflow_eks_data.render.pod_template import APP_LABEL
from airflow_eks_data.render.spark_application import explain_spark_application, render_spark_application
from airflow_eks_data.render.spark_submit import render_spark_submit
from airflow_eks_data.resolve import resolve
from airflow_eks_data.resolve.resolved import ResolvedJob
from airflow_eks_data.validate.crd import crd_problems
from tests.batch_profiles import batch_profile

GANG = {"name": "yunikorn", "gang": True, "placeholder_timeout_seconds": 900}
TASK_GROUPS = "yunikorn.apache.org/task-groups"


def _job(job: SparkJob, **changes: object) -> SparkJob:
    return SparkJob.from_dict({**job.model_dump(exclude_none=True), **changes})


def _spec(resolved: ResolvedJob) -> dict[str, Any]:
    spec: dict[str, Any] = render_spark_application(resolved)["spec"]
    return spec


def _groups(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["name"]: group for group in json.loads(spec["driver"]["annotations"][TASK_GROUPS])}


HIGH = {"datalake": {"priority_class": "batch-high"}}
"""A tenant's PriorityClass (the analytics tenant pins its own, so the profile cannot set one)."""


@pytest.mark.parametrize(
    ("batch", "tenants", "changes"),
    [
        (GANG, {}, {}),
        ({"name": "yunikorn"}, {}, {}),
        (GANG, HIGH, {"dynamic_allocation": {"enabled": True, "min_executors": 2}}),
        ({"name": "volcano", "gang": True}, HIGH, {}),
        ({"name": "volcano", "queue": "lake"}, {}, {"executor": {"cores": 2, "memory": "3g", "instances": 1}}),
    ],
    ids=["yunikorn-gang", "yunikorn", "yunikorn-gang-dynamic", "volcano-gang", "volcano"],
)
def test_rendered_applications_validate_against_the_pinned_crd(
    job: SparkJob, crd_path: Path, batch: dict[str, Any], tenants: dict[str, Any], changes: dict[str, Any]
) -> None:
    document = render_spark_application(resolve(_job(job, **changes), batch_profile(batch, tenants)))
    assert crd_problems(document, crd_path) == []
    spec = document["spec"]
    assert spec["batchScheduler"] == batch["name"]
    default = "root.datalake" if batch["name"] == "yunikorn" else "datalake"
    assert spec["batchSchedulerOptions"]["queue"] == batch.get("queue", default)
    for role in ("driver", "executor"):
        assert spec[role]["template"]["spec"]["schedulerName"] == batch["name"]


def test_task_groups_sum_to_the_requests_the_caps_allow(job: SparkJob) -> None:
    """The datalake tenant allows 200 executors of 64g each: a gang of that size reserves exactly the
    pods' requests, overhead included, and not a MiB more than the caps."""
    profile = batch_profile(GANG)
    tenant = profile.tenants["datalake"]
    at_caps = _job(job, executor={"cores": 4, "memory": "56g", "memory_overhead": "8g", "instances": 200})
    resolved = resolve(at_caps, profile)
    groups = _groups(_spec(resolved))
    driver, executor = groups["spark-driver"], groups["spark-executor"]
    assert executor["minMember"] == tenant.max_executors == 200
    assert tenant.max_executor_memory == "64g"
    assert executor["minResource"] == {"cpu": "4", "memory": memory_quantity(memory_kib(tenant.max_executor_memory))}
    assert driver["minMember"] == 1
    assert driver["minResource"] == {"cpu": "1", "memory": "2432Mi"}  # 2g heap + Spark's 384m minimum overhead
    total_mib = sum(g["minMember"] * int(g["minResource"]["memory"].removesuffix("Mi")) for g in groups.values())
    total_cpu = sum(g["minMember"] * int(g["minResource"]["cpu"]) for g in groups.values())
    pods = resolved.pod_requests
    assert (
        total_mib * 1024 == pods["driver"].memory_kib + 200 * pods["executor"].memory_kib == (2432 + 200 * 65536) * 1024
    )
    assert total_cpu == pods["driver"].cores + 200 * pods["executor"].cores == 801
    # One executor more, or one MiB more per executor, and the caps refuse the job before any gang exists.
    for over, rule in (
        ({"instances": 201}, "max-executors"),
        ({"memory": "57345m"}, "max-memory"),
    ):
        executor = {"cores": 4, "memory": "56g", "memory_overhead": "8g", "instances": 200, **over}
        with pytest.raises(SpecError) as caught:
            resolve(_job(job, executor=executor), profile)
        assert [p.rule.split(":")[0] for p in caught.value.problems] == [rule]


def test_minimum_resources_include_off_heap_memory(job: SparkJob) -> None:
    conf = {"spark.memory.offHeap.enabled": "true", "spark.memory.offHeap.size": "4g"}
    resolved = resolve(_job(job, spark_conf=conf), batch_profile(GANG))
    executor = _groups(_spec(resolved))["spark-executor"]
    assert executor["minResource"]["memory"] == f"{8192 + 819 + 4096}Mi"  # heap + 10% overhead + off-heap
    assert resolved.pod_requests["executor"].memory_kib == (8192 + 819 + 4096) * 1024


@pytest.mark.parametrize(("minimum", "members"), [(0, 1), (5, 5)])
def test_under_dynamic_allocation_the_gang_is_the_minimum(job: SparkJob, minimum: int, members: int) -> None:
    dynamic = {"enabled": True, "min_executors": minimum, "max_executors": 40}
    spec = _spec(resolve(_job(job, dynamic_allocation=dynamic), batch_profile(GANG)))
    assert _groups(spec)["spark-executor"]["minMember"] == members


def test_task_groups_place_placeholders_where_the_pods_go(job: SparkJob) -> None:
    toleration = {"key": "spark", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}
    placement = {
        "driver": {"capacity": "on-demand", "arch": "arm64"},
        "executor": {"capacity": "spot", "arch": "arm64", "min_local_nvme_gb": 300, "tolerations": [toleration]},
        "same_zone": True,
    }
    groups = _groups(_spec(resolve(job, batch_profile(GANG, placement=placement))))
    driver, executor = groups["spark-driver"], groups["spark-executor"]
    assert driver["nodeSelector"] == {"karpenter.sh/capacity-type": "on-demand", "kubernetes.io/arch": "arm64"}
    assert executor["nodeSelector"] == {"karpenter.sh/capacity-type": "spot", "kubernetes.io/arch": "arm64"}
    assert executor["tolerations"] == [toleration] and "tolerations" not in driver
    nvme = executor["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert nvme["nodeSelectorTerms"][0]["matchExpressions"] == [
        {"key": "karpenter.k8s.aws/instance-local-nvme", "operator": "Gt", "values": ["300"]}
    ]
    for group in (driver, executor):  # placeholders follow the driver's zone, as the real pods will
        assert group["labels"] == {APP_LABEL: "compact-events"}
        zone = group["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
        assert zone["labelSelector"]["matchLabels"] == {APP_LABEL: "compact-events"}


def test_yunikorn_annotations_and_queue_on_each_role(job: SparkJob) -> None:
    spec = _spec(resolve(job, batch_profile(GANG, {"datalake": {"queue": "root.spark.datalake"}})))
    driver, executor = spec["driver"], spec["executor"]
    assert driver["annotations"]["yunikorn.apache.org/task-group-name"] == "spark-driver"
    assert executor["annotations"] == {
        "yunikorn.apache.org/queue": "root.spark.datalake",
        "yunikorn.apache.org/task-group-name": "spark-executor",
    }
    assert driver["annotations"]["yunikorn.apache.org/schedulingPolicyParameters"] == (
        "placeholderTimeoutInSeconds=900 gangSchedulingStyle=Hard"
    )
    assert driver["labels"]["queue"] == executor["labels"]["queue"] == "root.spark.datalake"
    assert spec["batchSchedulerOptions"] == {"queue": "root.spark.datalake"}
    plain = _spec(resolve(job, batch_profile({"name": "yunikorn", "gang_style": "Soft"})))
    assert plain["driver"]["annotations"] == {"yunikorn.apache.org/queue": "root.datalake"}
    assert TASK_GROUPS not in plain["driver"]["annotations"]


def test_volcano_gets_its_pod_group_minimum_from_the_options(job: SparkJob) -> None:
    gang = _spec(resolve(job, batch_profile({"name": "volcano", "gang": True})))
    # driver 1 CPU + 2432Mi, ten executors of 4 CPU + 9011Mi (8g + 10% overhead)
    assert gang["batchSchedulerOptions"] == {
        "queue": "datalake",
        "resources": {"cpu": "41", "memory": f"{2432 + 10 * 9011}Mi"},
    }
    alone = _spec(resolve(job, batch_profile({"name": "volcano"})))
    assert alone["batchSchedulerOptions"]["resources"] == {"cpu": "1", "memory": "2432Mi"}
    for role in ("driver", "executor"):
        assert alone[role]["annotations"] == {"scheduling.volcano.sh/queue-name": "datalake"}
        assert "queue" not in alone[role]["labels"]


def test_the_priority_class_is_on_the_options_and_every_pod(job: SparkJob) -> None:
    spec = _spec(resolve(job, batch_profile({"name": "volcano"}, HIGH)))
    assert spec["batchSchedulerOptions"]["priorityClassName"] == "batch-high"
    assert [spec[r]["template"]["spec"]["priorityClassName"] for r in ("driver", "executor")] == ["batch-high"] * 2
    analytics = _job(
        job,
        tenant="analytics",
        labels={"team": "analytics"},
        main_application_file="s3://example-artifacts/analytics/a.jar",
    )
    pinned = _spec(resolve(analytics, batch_profile({"name": "yunikorn"})))
    assert pinned["batchSchedulerOptions"]["priorityClassName"] == "analytics-batch"
    assert pinned["executor"]["template"]["spec"]["priorityClassName"] == "analytics-batch"


def test_explain_names_the_layer_of_each_scheduling_value(job: SparkJob) -> None:
    resolved = resolve(job, batch_profile(GANG, {"datalake": {"queue": "root.spark.datalake"}}))
    origins = {path: origin for path, _, origin in explain_spark_application(resolved)}
    assert origins["spec.batchScheduler"] == "profile:compaction"
    assert origins["spec.batchSchedulerOptions.queue"] == "tenant:datalake"
    assert origins["spec.driver.annotations[yunikorn.apache.org/queue]"] == "tenant:datalake"
    assert origins["spec.driver.annotations[yunikorn.apache.org/task-groups]"] == "profile:compaction"
    assert origins["spec.executor.template.spec.schedulerName"] == "profile:compaction"
    assert origins["spec.driver.labels.queue"] == "tenant:datalake"
    default = resolve(job, batch_profile({"name": "yunikorn"}))
    origins = {path: origin for path, _, origin in explain_spark_application(default)}
    assert origins["spec.batchSchedulerOptions.queue"] == "built-in"


def test_spark_submit_renders_the_keys_and_the_local_backend_drops_them(job: SparkJob) -> None:
    local = _job(job, main_application_file="jobs/compact.jar")
    batched = render_spark_submit(resolve(local, batch_profile(GANG)))
    plain = render_spark_submit(resolve(local, batch_profile(None)))
    assert batched.argv == plain.argv  # local[*] has no scheduler: the command is the same
    added = sorted(set(batched.dropped) - set(plain.dropped))
    assert added == [
        "spark.kubernetes.driver.annotation.yunikorn.apache.org/queue",
        "spark.kubernetes.driver.annotation.yunikorn.apache.org/schedulingPolicyParameters",
        "spark.kubernetes.driver.annotation.yunikorn.apache.org/task-group-name",
        "spark.kubernetes.driver.annotation.yunikorn.apache.org/task-groups",
        "spark.kubernetes.driver.label.queue",
        "spark.kubernetes.executor.annotation.yunikorn.apache.org/queue",
        "spark.kubernetes.executor.annotation.yunikorn.apache.org/task-group-name",
        "spark.kubernetes.executor.label.queue",
        "spark.kubernetes.scheduler.name",
    ]


def test_the_batch_scheduler_keys_carry_the_same_values_for_spark_submit(job: SparkJob) -> None:
    from airflow_eks_data.render.conf import batch_scheduler_properties

    resolved = resolve(job, batch_profile(GANG))
    conf = {key: value.value for key, value in batch_scheduler_properties(resolved).items()}
    annotations = _spec(resolved)["driver"]["annotations"]
    assert conf["spark.kubernetes.scheduler.name"] == "yunikorn"
    assert conf[f"spark.kubernetes.driver.annotation.{TASK_GROUPS}"] == annotations[TASK_GROUPS]
    assert conf["spark.kubernetes.executor.label.queue"] == "root.datalake"


def test_emr_renderers_ignore_the_batch_scheduler(job: SparkJob) -> None:
    batched = resolve(job, batch_profile(GANG))
    plain = resolve(job, batch_profile(None))
    assert render_emr_job_run(batched) == render_emr_job_run(plain)
    assert render_emr_serverless_job_run(batched) == render_emr_serverless_job_run(plain)


@pytest.mark.parametrize(("cores", "text"), [(4.0, "4"), (0.5, "500m"), (1.25, "1250m")])
def test_cpu_quantities(cores: float, text: str) -> None:
    assert cpu_quantity(cores) == text


def test_memory_quantities() -> None:
    assert memory_quantity(9011 * 1024) == "9011Mi"
    assert memory_quantity(1536 * 1024 + 1) == f"{1536 * 1024 + 1}Ki"


def test_the_example_profile_gang_schedules_each_tenant_in_its_queue(job: SparkJob, profile: PlatformProfile) -> None:
    spec = _spec(resolve(job, profile))
    assert (spec["batchScheduler"], spec["batchSchedulerOptions"]) == ("yunikorn", {"queue": "root.spark.datalake"})
    assert _groups(spec)["spark-executor"]["minMember"] == 10
    analytics = _job(
        job,
        tenant="analytics",
        labels={"team": "analytics"},
        main_application_file="s3://example-artifacts/analytics/a.jar",
    )
    options = _spec(resolve(analytics, profile))["batchSchedulerOptions"]
    assert options == {"queue": "root.analytics", "priorityClassName": "analytics-batch"}
