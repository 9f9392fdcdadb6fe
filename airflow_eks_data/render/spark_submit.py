"""Render a resolved job as a local `spark-submit` command, so the same DAG runs on a laptop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_eks_data.render.conf import dependency_options, spark_properties
from airflow_eks_data.render.sourced import Explained, Sourced, split
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


def render_spark_submit(job: ResolvedJob, spark_submit: str = "spark-submit") -> SparkSubmit:
    """The argv of `spark-submit --master local[...]` for the job."""
    conf, dropped = _conf(job)
    argv = [spark_submit, *_argv(job, conf)]
    return SparkSubmit(argv=argv, env=dict(job.env), dropped=dropped)


def explain_spark_submit(job: ResolvedJob) -> Explained:
    """Every option of the command with the layer that set it."""
    conf, _ = _conf(job)
    tree: dict[str, Any] = {
        "master": Sourced(job.profile.local_master, f"profile:{job.profile.name}"),
        "conf": conf,
    }
    return split(tree, explain=True)[1]


def _conf(job: ResolvedJob) -> tuple[dict[str, Sourced], list[str]]:
    conf = spark_properties(job, resources=True)
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
