"""Render a resolved job for one backend: a SparkApplication, an EMR StartJobRun request, or spark-submit."""

from __future__ import annotations

from typing import Any

from airflow_eks_data.render.emr_on_eks import explain_emr_job_run, render_emr_job_run
from airflow_eks_data.render.sourced import Explained
from airflow_eks_data.render.spark_application import explain_spark_application, render_spark_application
from airflow_eks_data.render.spark_submit import explain_spark_submit, render_spark_submit
from airflow_eks_data.resolve.resolved import ResolvedJob
from airflow_eks_data.targets import TARGETS, Target, target_name


def render(job: ResolvedJob, target: Target) -> dict[str, Any]:
    """The rendered document for `target`, as the CLI prints it."""
    if target is Target.SPARK_OPERATOR:
        return render_spark_application(job)
    if target is Target.EMR_ON_EKS:
        run = render_emr_job_run(job)
        return {"request": run.request, "podTemplates": run.pod_templates}
    local = render_spark_submit(job)
    return {"argv": local.argv, "env": local.env, "dropped": local.dropped}


def explain(job: ResolvedJob, target: Target) -> Explained:
    """Every rendered value for `target` with the layer that set it."""
    if target is Target.SPARK_OPERATOR:
        return explain_spark_application(job)
    if target is Target.EMR_ON_EKS:
        return explain_emr_job_run(job)
    return explain_spark_submit(job)


__all__ = ["TARGETS", "Target", "explain", "render", "target_name"]
