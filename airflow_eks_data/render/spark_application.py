"""Render a resolved job as a kubeflow Spark Operator `sparkoperator.k8s.io/v1beta2` SparkApplication."""

from __future__ import annotations

from typing import Any

from airflow_eks_data.render import batch_scheduling
from airflow_eks_data.render.conf import spark_properties
from airflow_eks_data.render.pod_template import Role, owned_labels, pod_template
from airflow_eks_data.render.sourced import Explained, Sourced, split, src
from airflow_eks_data.resolve.resolved import ResolvedJob

API_VERSION = "sparkoperator.k8s.io/v1beta2"
KIND = "SparkApplication"


def render_spark_application(job: ResolvedJob) -> dict[str, Any]:
    """The SparkApplication manifest, ready to create."""
    document, _ = split(_build(job))
    return document  # type: ignore[no-any-return]


def explain_spark_application(job: ResolvedJob) -> Explained:
    """Every leaf of the manifest with the layer that set it."""
    return split(_build(job), explain=True)[1]


def _build(job: ResolvedJob) -> dict[str, Any]:
    conf: dict[str, Any] = spark_properties(job, resources=False)
    # One prefix per application keeps executor pod names unique and within Spark's 47-character limit.
    conf["spark.kubernetes.executor.podNamePrefix"] = job.app_name
    spec: dict[str, Any] = {
        "type": src(job, "type", job.type),
        "mode": "cluster",
        "image": src(job, "image", job.image),
        "imagePullPolicy": "IfNotPresent",
        "sparkVersion": src(job, "spark_version", job.spark_version),
        "mainApplicationFile": src(job, "main_application_file", job.main_application_file),
    }
    if job.main_class:
        spec["mainClass"] = src(job, "main_class", job.main_class)
    if job.arguments:
        spec["arguments"] = src(job, "arguments", job.arguments)
    spec["sparkConf"] = conf
    deps = _deps(job)
    if deps:
        spec["deps"] = deps
    # The operator's own retries would hide interruptions from the classifier; attempts are ours.
    spec["restartPolicy"] = {"type": "Never"}
    ttl = job.profile.time_to_live_seconds
    if ttl:
        spec["timeToLiveSeconds"] = Sourced(ttl, f"profile:{job.profile.name}")
    if job.dynamic_allocation:
        dyn = job.dynamic_allocation
        spec["dynamicAllocation"] = {
            "enabled": src(job, "dynamic_allocation.enabled", True),
            "minExecutors": src(job, "dynamic_allocation.min_executors", dyn.min_executors),
            "maxExecutors": src(job, "dynamic_allocation.max_executors", dyn.max_executors),
            "initialExecutors": src(
                job,
                "executor.instances",
                min(max(job.executor_instances, dyn.min_executors), dyn.max_executors),
            ),
        }
    spec.update(batch_scheduling.spark_application_fields(job))
    spec["driver"] = _role(job, "driver")
    spec["executor"] = _role(job, "executor")
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": Sourced(job.app_name, job.origin("app_name")),
            "namespace": Sourced(job.namespace, f"tenant:{job.tenant_name}"),
            "labels": owned_labels(job),
        },
        "spec": spec,
    }


def _role(job: ResolvedJob, role: Role) -> dict[str, Any]:
    res = job.driver if role == "driver" else job.executor
    out: dict[str, Any] = {
        "cores": src(job, f"{role}.cores", res.cores),
        "memory": src(job, f"{role}.memory", res.memory),
    }
    if res.memory_overhead:
        out["memoryOverhead"] = src(job, f"{role}.memory_overhead", res.memory_overhead)
    if role == "executor":
        out["instances"] = src(job, "executor.instances", job.executor_instances)
    out["serviceAccount"] = Sourced(job.service_account, f"tenant:{job.tenant_name}")
    out["labels"] = {**owned_labels(job), **batch_scheduling.pod_labels(job)}
    # The operator passes these as `spark.kubernetes.<role>.annotation.*`, webhook or not.
    annotations = batch_scheduling.pod_annotations(job, role)
    if annotations:
        out["annotations"] = annotations
    out["template"] = pod_template(job, role, batch_scheduler=True)
    return out


def _deps(job: ResolvedJob) -> dict[str, Any]:
    names = {"jars": "jars", "py_files": "pyFiles", "files": "files", "packages": "packages"}
    names["repositories"] = "repositories"
    return {
        camel: src(job, f"deps.{field}", list(getattr(job.deps, field)))
        for field, camel in names.items()
        if getattr(job.deps, field)
    }
