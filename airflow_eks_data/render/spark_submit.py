"""Render a resolved job as a local `spark-submit` command, so the same DAG runs on a laptop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_eks_data.render.conf import batch_scheduler_properties, dependency_options, spark_properties
from airflow_eks_data.render.sourced import Explained, Sourced, split
from airflow_eks_data.render.spark_versions import version_note
from airflow_eks_data.resolve.resolved import ResolvedJob

# Settings that only mean something on Kubernetes (or need S3): dropped locally, and reported.
KUBERNETES_ONLY = ("spark.kubernetes.", "spark.local.dir", "spark.storage.decommission.fallbackStorage.path")


@dataclass(frozen=True)
class SparkSubmit:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    """Environment of the spark-submit process (the driver runs in it)."""
    dropped: list[str] = field(default_factory=list)
    """Spark keys left out because they only apply on Kubernetes."""
    spark_version: str | None = None
    """The job's `spark_version`, for comparing with the local Spark (`spark_versions.version_note`)."""
    spark_version_origin: str | None = None
    """The layer that set `spark_version`."""
    notes: list[str] = field(default_factory=list)
    """What the run should say once, e.g. that the local Spark is not the job's `spark_version`."""


def render_spark_submit(
    job: ResolvedJob, spark_submit: str = "spark-submit", local_spark_version: str | None = None
) -> SparkSubmit:
    """The argv of `spark-submit --master local[...]` for the job. Given the local Spark's version (the
    local hook reads it; rendering does no I/O), a major.minor other than the job's adds a note."""
    conf, dropped = _conf(job)
    argv = [spark_submit, *_argv(job, conf)]
    origin = job.origin("spark_version")
    note = version_note(job.spark_version, local_spark_version, origin)
    return SparkSubmit(
        argv=argv,
        env=dict(job.env),
        dropped=dropped,
        spark_version=job.spark_version,
        spark_version_origin=origin,
        notes=[note] if note else [],
    )


def explain_spark_submit(job: ResolvedJob) -> Explained:
    """Every option of the command with the layer that set it."""
    conf, _ = _conf(job)
    tree: dict[str, Any] = {
        "master": Sourced(job.profile.local_master, f"profile:{job.profile.name}"),
        "conf": conf,
    }
    return split(tree, explain=True)[1]


def _conf(job: ResolvedJob) -> tuple[dict[str, Sourced], list[str]]:
    # The batch scheduler's keys are Kubernetes-only: `local[*]` drops them and says so.
    conf = {**spark_properties(job, resources=True), **batch_scheduler_properties(job)}
    dropped = sorted(key for key in conf if key.startswith(KUBERNETES_ONLY))
    for key in dropped:
        del conf[key]
    return conf, dropped


def _argv(job: ResolvedJob, conf: dict[str, Sourced]) -> list[str]:
    plain, _ = split(conf)
    argv = ["--master", job.profile.local_master, "--name", job.app_name]
    if job.main_class:
        argv += ["--class", job.main_class]
    for key, value in plain.items():
        argv += ["--conf", f"{key}={value}"]
    argv += dependency_options(job)
    return [*argv, job.main_application_file, *job.arguments]
