"""resolve(job, profile): merge profile -> tenant -> job, apply guardrails, return a `ResolvedJob`."""

from __future__ import annotations

from typing import Any

from airflow_eks_data.errors import MISSING, Problem, SpecError, format_path
from airflow_eks_data.jobspec.job import SparkJob
from airflow_eks_data.jobspec.names import MAX_APP_NAME, shorten
from airflow_eks_data.jobspec.profile import (
    PlatformProfile,
    RolePlacement,
    Tenant,
    default_queue,
    layered_batch_scheduler,
)
from airflow_eks_data.jobspec.quantities import spark_memory
from airflow_eks_data.jobspec.settings import EscalationSettings
from airflow_eks_data.outcomes.policy import OnDemandEscalation
from airflow_eks_data.resolve import guardrails, ownership
from airflow_eks_data.resolve.merge import layer_dict, merge_settings, merge_tolerations
from airflow_eks_data.resolve.ownership import Owner
from airflow_eks_data.resolve.pod_requests import PodRequest, pod_request
from airflow_eks_data.resolve.resolved import (
    BUILTIN,
    AllocationBounds,
    ResolvedBatchScheduler,
    ResolvedJob,
    ResolvedPlacement,
    Resources,
    RunAdditions,
)

DEFAULTS: dict[str, Any] = {
    "driver": {"cores": 1, "memory": "1g"},
    "executor": {"cores": 1, "memory": "1g", "instances": 1},
    "interruption_retries": 3,
    "retry_on_failure": False,
}
"""Values no layer has to give."""

ESCALATION = "escalation"


def resolve(
    job: SparkJob,
    profile: PlatformProfile,
    *,
    tenant: str | None = None,
    app_name: str | None = None,
    escalation: OnDemandEscalation | None = None,
    additions: RunAdditions | None = None,
) -> ResolvedJob:
    """Merge and check a job against its profile. Raises `SpecError` listing every rule broken.

    `app_name` is the Kubernetes name to use (the operator passes one unique per task attempt);
    `escalation` is what the retry policy decided for this attempt after earlier interruptions;
    `additions` are the operator's run-time labels and Spark keys.
    """
    tenant_name, tenant_spec = _tenant(job, profile, tenant)
    pins = tenant_spec.pinned
    pinned = {
        "labels": pins.labels,
        "spark_conf": pins.spark_conf,
        **({"capacity": pins.capacity} if pins.capacity else {}),
    }
    merged, origins = merge_settings(
        [
            ("default", DEFAULTS),
            (f"profile:{profile.name}", layer_dict(profile)),
            (f"tenant:{tenant_name}", layer_dict(tenant_spec)),
            (f"job:{job.name}", layer_dict(job)),
            (f"tenant:{tenant_name} (pinned)", pinned),
        ]
    )
    _job_only_origins(job, origins)
    origins["app_name"] = "operator" if app_name else f"job:{job.name}"
    problems = _check(job, profile, tenant_spec, merged)
    dynamic = _dynamic_allocation(merged, tenant_spec, origins)
    pods, pod_problems = _pods(job, merged)
    problems += pod_problems
    if pods:
        problems += guardrails.cap_problems(
            pods,
            {role: merged[role]["memory"] for role in pods},
            merged["executor"]["instances"],
            (dynamic.min_executors, dynamic.max_executors) if dynamic else None,
            tenant_spec,
        )
    storage, storage_problems = _local_storage(job, profile, origins)
    problems += storage_problems
    batch = _batch_scheduler(profile, tenant_name, tenant_spec, origins)
    problems += _queue_label_problems(batch, merged.get("labels", {}))
    if problems:
        raise SpecError(problems)
    driver_place, executor_place = _placement(profile, tenant_spec, merged, origins, escalation or OnDemandEscalation())
    driver, executor = merged["driver"], merged["executor"]
    spark_conf, labels = _add(merged, additions or RunAdditions(), origins)
    local = profile.local_storage
    return ResolvedJob(
        job_name=job.name,
        app_name=app_name or shorten(job.name, MAX_APP_NAME),
        tenant_name=tenant_name,
        namespace=tenant_spec.namespace,
        service_account=tenant_spec.service_account,
        type=job.type or "Scala",
        main_application_file=job.main_application_file,
        main_class=job.main_class,
        arguments=list(job.arguments),
        image=merged["image"],
        spark_version=merged["spark_version"],
        driver=_resources(driver),
        executor=_resources(executor),
        executor_instances=executor["instances"],
        dynamic_allocation=dynamic,
        spark_conf=spark_conf,
        hadoop_conf=merged.get("hadoop_conf", {}),
        env=merged.get("env", {}),
        labels=labels,
        deps=job.deps,
        driver_placement=driver_place,
        executor_placement=executor_place,
        same_zone=profile.placement.same_zone,
        local_storage=storage,
        nvme=local.nvme if storage == "nvme" else None,
        ebs=local.ebs if storage == "ebs" else None,
        ephemeral_storage=local.ephemeral_storage,
        inputs=list(job.inputs),
        outputs=list(job.outputs),
        timeout=merged.get("timeout"),
        startup_timeout=merged.get("startup_timeout"),
        interruption_retries=merged["interruption_retries"],
        retry_on_failure=merged["retry_on_failure"],
        escalation=EscalationSettings(**merged["escalation"]) if "escalation" in merged else None,
        profile=profile,
        tenant=tenant_spec,
        origins=origins,
        batch_scheduler=batch,
        pod_requests=pods,
    )


def _resources(settings: dict[str, Any]) -> Resources:
    """Cores and memory in Spark's spelling (`4Gi` becomes `4g`)."""
    overhead = settings.get("memory_overhead")
    return Resources(settings["cores"], spark_memory(settings["memory"]), spark_memory(overhead) if overhead else None)


def _pods(job: SparkJob, merged: dict[str, Any]) -> tuple[dict[str, PodRequest], list[Problem]]:
    """The driver and executor pods' requests under every layer's Spark conf."""
    conf = {ownership.canonical_keys(key)[0]: value for key, value in merged.get("spark_conf", {}).items()}
    non_jvm = job.type in ("Python", "R")
    try:
        return {
            role: pod_request(
                role, merged[role]["cores"], merged[role]["memory"], merged[role].get("memory_overhead"), conf, non_jvm
            )
            for role in ("driver", "executor")
        }, []
    except ValueError as exc:
        return {}, [Problem("spark_conf", str(exc).split(":")[0], f"size: {exc}")]


def _add(
    merged: dict[str, Any], additions: RunAdditions, origins: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    conf: dict[str, str] = merged.get("spark_conf", {})
    for key in additions.spark_conf.keys() - conf.keys():
        origins[format_path(("spark_conf", key))] = additions.origin
    for key in additions.labels:
        origins[format_path(("labels", key))] = additions.origin
    return {**additions.spark_conf, **conf}, {**merged.get("labels", {}), **additions.labels}


def _job_only_origins(job: SparkJob, origins: dict[str, str]) -> None:
    layer = f"job:{job.name}"
    for name in ("main_application_file", "main_class", "arguments", "inputs", "outputs", "name"):
        origins[name] = layer
    for name in job.deps.model_fields_set:
        origins[f"deps.{name}"] = layer
    origins["type"] = layer if "type" in job.model_fields_set else "inferred from main_application_file"
    origins["tenant"] = layer if job.tenant else "tenant override"


def _tenant(job: SparkJob, profile: PlatformProfile, override: str | None) -> tuple[str, Tenant]:
    known = ", ".join(sorted(profile.tenants)) or "none"
    if override and job.tenant and override != job.tenant:
        raise SpecError([Problem("tenant", override, f"tenant-mismatch: the job belongs to tenant {job.tenant!r}")])
    name = override or job.tenant
    if not name:
        raise SpecError([Problem("tenant", MISSING, f"required: one of the profile's tenants ({known})")])
    if name not in profile.tenants:
        raise SpecError([Problem("tenant", name, f"unknown-tenant: profile {profile.name!r} has {known}")])
    return name, profile.tenants[name]


def _check(job: SparkJob, profile: PlatformProfile, tenant: Tenant, merged: dict[str, Any]) -> list[Problem]:
    """Each layer may set only what it owns: the tenant nothing of the platform's, the job nothing of
    either's, under any spelling; then images, labels, caps and where code and data live."""
    platform_locks = [(pattern, Owner.PLATFORM) for pattern in profile.locked_spark_conf]
    locks = [*platform_locks, *((pattern, Owner.TENANT) for pattern in tenant.locked_spark_conf)]
    allow = None if tenant.spark_conf_allow is None else [*tenant.spark_conf_allow, *profile.safe_spark_conf]
    java = profile.safe_java_properties
    problems: list[Problem] = []
    for field in ("spark_conf", "hadoop_conf"):
        tenant_conf = {**(getattr(tenant, field) or {}), **(tenant.pinned.spark_conf if field == "spark_conf" else {})}
        problems += guardrails.conf_problems(field, tenant_conf, Owner.TENANT, platform_locks, None, java)
        problems += guardrails.conf_problems(field, getattr(job, field) or {}, Owner.JOB, locks, allow, java)
    problems += guardrails.pinned_problems(job, tenant)
    fields = ("spark_conf", "hadoop_conf")
    layers = (profile, tenant, job)
    problems += guardrails.spelling_problems((f, getattr(layer, f) or {}) for layer in layers for f in fields)
    problems += guardrails.field_lock_problems(job.deps.__dict__, locks)
    problems += guardrails.env_problems(tenant.env or {}, Owner.TENANT)
    problems += guardrails.env_problems(job.env or {}, Owner.JOB)
    problems += guardrails.image_problems(merged.get("image"), profile, tenant)
    if not merged.get("spark_version"):
        problems.append(Problem("spark_version", MISSING, "required: set spark_version in the job or the profile"))
    lower_labels = {**(tenant.labels or {}), **tenant.pinned.labels, **(job.labels or {})}
    problems += guardrails.reserved_label_problems(lower_labels)
    problems += guardrails.required_label_problems(merged.get("labels", {}), tenant.required_labels)
    problems += guardrails.location_problems(guardrails.locations(job), tenant, job.deps)
    problems += guardrails.storage_problems(_local_sizes(profile), tenant)
    return problems


def _batch_scheduler(
    profile: PlatformProfile, tenant_name: str, tenant: Tenant, origins: dict[str, str]
) -> ResolvedBatchScheduler | None:
    """The profile's batch scheduler with the tenant's filling it in (their agreement was checked when the
    profile loaded), defaults applied; origins under `batch_scheduler.<field>`."""
    if profile.batch_scheduler is None and tenant.batch_scheduler is None:
        return None
    given, _ = layered_batch_scheduler(profile.batch_scheduler, tenant.batch_scheduler)
    layers = {"profile": f"profile:{profile.name}", "tenant": f"tenant:{tenant_name}"}
    values = {field: value for field, (value, _) in given.items()}
    for field, (_, layer) in given.items():
        origins[f"batch_scheduler.{field}"] = layers[layer]
    name = values.get("name")
    if name is None:  # a profile built without validation (`model_construct`, `model_copy(update=...)`)
        raise SpecError([Problem("batch_scheduler.name", MISSING, "required: yunikorn or volcano")])
    defaults = {"queue": default_queue(name, tenant.namespace), "gang": False, "gang_style": "Hard"}
    for field, value in defaults.items():
        if field not in values:
            values[field], origins[f"batch_scheduler.{field}"] = value, BUILTIN
    if "priority_class" not in values and tenant.pinned.priority_class:
        values["priority_class"] = tenant.pinned.priority_class
        origins["batch_scheduler.priority_class"] = f"tenant:{tenant_name} (pinned)"
    return ResolvedBatchScheduler(
        name=name,
        queue=values["queue"],
        gang=values["gang"],
        priority_class=values.get("priority_class"),
        placeholder_timeout_seconds=values.get("placeholder_timeout_seconds"),
        gang_style=values["gang_style"],
    )


QUEUE_LABEL = "queue"
"""The label YuniKorn takes an application's queue from, before any annotation."""


def _queue_label_problems(batch: ResolvedBatchScheduler | None, labels: dict[str, str]) -> list[Problem]:
    if batch is None or batch.name != "yunikorn" or QUEUE_LABEL not in labels:
        return []
    return [
        Problem(
            f"labels.{QUEUE_LABEL}",
            labels[QUEUE_LABEL],
            f"reserved-label: YuniKorn reads the application's queue from it; the queue is {batch.queue!r} "
            "(batch_scheduler.queue of the profile or tenant)",
        )
    ]


def _local_sizes(profile: PlatformProfile) -> dict[str, str]:
    storage = profile.local_storage
    sizes = {}
    if storage.ephemeral_storage:
        sizes["local_storage.ephemeral_storage.limit"] = storage.ephemeral_storage.limit
    if storage.ebs:
        sizes["local_storage.ebs.size"] = storage.ebs.size
    return sizes


def _dynamic_allocation(merged: dict[str, Any], tenant: Tenant, origins: dict[str, str]) -> AllocationBounds | None:
    settings = merged.get("dynamic_allocation", {})
    if not settings.get("enabled"):
        return None
    high = settings.get("max_executors")
    if high is None:
        # Spark's own default is unbounded; a tenant cap, or the static count, bounds it instead.
        high = tenant.max_executors or merged["executor"]["instances"]
        origins["dynamic_allocation.max_executors"] = "tenant cap" if tenant.max_executors else BUILTIN
    low = settings.get("min_executors", 0)
    if low > high:
        raise SpecError([Problem("dynamic_allocation.min_executors", low, f"must not exceed max_executors ({high})")])
    return AllocationBounds(low, high)


def _local_storage(job: SparkJob, profile: PlatformProfile, origins: dict[str, str]) -> tuple[str, list[Problem]]:
    config = profile.local_storage
    if job.local_storage:
        kind, origins["local_storage"] = job.local_storage, f"job:{job.name}"
    elif config.default:
        kind, origins["local_storage"] = config.default, f"profile:{profile.name}"
    else:
        kind = "nvme" if config.nvme else "none"
        origins["local_storage"] = f"profile:{profile.name}" if config.nvme else BUILTIN
    if kind != "none" and getattr(config, kind) is None:
        return kind, [
            Problem("local_storage", kind, f"unavailable: profile {profile.name!r} has no local_storage.{kind}")
        ]
    return kind, []


def _placement(
    profile: PlatformProfile,
    tenant: Tenant,
    merged: dict[str, Any],
    origins: dict[str, str],
    escalation: OnDemandEscalation,
) -> tuple[ResolvedPlacement, ResolvedPlacement]:
    """Per-role placement: the profile's, with the merged capacity/arch, escalated after interruptions
    unless the tenant pinned the executors' capacity."""
    layer = f"profile:{profile.name}"
    roles = {"driver": profile.placement.driver, "executor": profile.placement.executor}
    if "same_zone" in profile.placement.model_fields_set:
        origins["placement.same_zone"] = layer
    for role, spec in roles.items():
        for key in spec.model_dump(exclude_none=True, exclude_defaults=True):
            origins[f"placement.{role}.{key}"] = layer
    executor_capacity = merged.get("capacity", roles["executor"].capacity)
    if "capacity" in merged:
        origins["placement.executor.capacity"] = origins["capacity"]
    arch = merged.get("arch")
    if arch:
        origins["placement.driver.arch"] = origins["placement.executor.arch"] = origins["arch"]
    driver_capacity = roles["driver"].capacity
    if escalation.executors_on_demand and not tenant.pinned.capacity:
        executor_capacity, origins["placement.executor.capacity"] = "on-demand", ESCALATION
    if escalation.driver_on_demand and driver_capacity != "on-demand":
        driver_capacity, origins["placement.driver.capacity"] = "on-demand", ESCALATION
    return (
        _role(roles["driver"], driver_capacity, arch),
        _role(roles["executor"], executor_capacity, arch),
    )


def _role(spec: RolePlacement, capacity: str | None, arch: str | None) -> ResolvedPlacement:
    return ResolvedPlacement(
        capacity=capacity,
        arch=arch or spec.arch,
        min_local_nvme_gb=spec.min_local_nvme_gb,
        node_pool=spec.node_pool,
        node_selector=dict(spec.node_selector),
        tolerations=merge_tolerations([t.model_dump(exclude_none=True) for t in spec.tolerations]),
    )
