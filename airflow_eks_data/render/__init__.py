"""Render a resolved job for one backend: a SparkApplication, an EMR StartJobRun request, or spark-submit."""

from __future__ import annotations

from typing import Any, Literal

from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.render.emr_on_eks import explain_emr_job_run, render_emr_job_run
from airflow_eks_data.render.sourced import Explained
from airflow_eks_data.render.spark_application import explain_spark_application, render_spark_application
from airflow_eks_data.render.spark_submit import explain_spark_submit, render_spark_submit
from airflow_eks_data.resolve.resolved import ResolvedJob

Target = Literal["spark_operator", "emr_on_eks", "local"]
TARGETS: tuple[Target, ...] = ("spark_operator", "emr_on_eks", "local")


def target_name(name: str) -> Target:
    """Accept the CLI's `spark-operator` spelling as well as the backend name `spark_operator`."""
    normal = name.strip().lower().replace("-", "_")
    if normal not in TARGETS:
        raise SpecError([Problem("target", name, f"one of {', '.join(TARGETS)}")])
    return normal


def render(job: ResolvedJob, target: Target) -> dict[str, Any]:
    """The rendered document for `target`, as the CLI prints it."""
    if target == "spark_operator":
        return render_spark_application(job)
    if target == "emr_on_eks":
        run = render_emr_job_run(job)
        return {"request": run.request, "podTemplates": run.pod_templates}
    local = render_spark_submit(job)
    return {"argv": local.argv, "env": local.env, "dropped": local.dropped}


def explain(job: ResolvedJob, target: Target) -> Explained:
    """Every rendered value for `target` with the layer that set it."""
    if target == "spark_operator":
        return explain_spark_application(job)
    if target == "emr_on_eks":
        return explain_emr_job_run(job)
    return explain_spark_submit(job)


__all__ = ["TARGETS", "Target", "explain", "render", "target_name"]
