"""The built-in backends' renderers, as the registry loads them: render, explain, check."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow_eks_data.errors import Problem
from airflow_eks_data.render.emr_on_eks import explain_emr_job_run, render_emr_job_run
from airflow_eks_data.render.emr_serverless import explain_emr_serverless_job_run, render_emr_serverless_job_run
from airflow_eks_data.render.sourced import Explained
from airflow_eks_data.render.spark_application import explain_spark_application, render_spark_application
from airflow_eks_data.render.spark_submit import explain_spark_submit, render_spark_submit
from airflow_eks_data.resolve.resolved import ResolvedJob


class SparkApplicationRenderer:
    def render(self, job: ResolvedJob) -> dict[str, Any]:
        return render_spark_application(job)

    def explain(self, job: ResolvedJob) -> Explained:
        return explain_spark_application(job)

    def problems(self, job: ResolvedJob, document: Mapping[str, Any], crd: str | Path | None) -> list[Problem]:
        """The pinned CRD's schema, when given (the CLI's `--crd`, the test suite)."""
        if not crd:
            return []
        from airflow_eks_data.validate.crd import crd_problems

        return crd_problems(dict(document), crd)


class EmrJobRunRenderer:
    def render(self, job: ResolvedJob) -> dict[str, Any]:
        run = render_emr_job_run(job)
        return {"request": run.request, "podTemplates": run.pod_templates}

    def explain(self, job: ResolvedJob) -> Explained:
        return explain_emr_job_run(job)

    def problems(self, job: ResolvedJob, document: Mapping[str, Any], crd: str | Path | None) -> list[Problem]:
        """botocore's model of StartJobRun, with the constraints botocore itself does not check."""
        from airflow_eks_data.validate.emr import emr_request_problems

        return emr_request_problems(document["request"])


class EmrServerlessJobRunRenderer:
    def render(self, job: ResolvedJob) -> dict[str, Any]:
        return {"request": render_emr_serverless_job_run(job)}

    def explain(self, job: ResolvedJob) -> Explained:
        return explain_emr_serverless_job_run(job)

    def problems(self, job: ResolvedJob, document: Mapping[str, Any], crd: str | Path | None) -> list[Problem]:
        """botocore's emr-serverless model of StartJobRun. The model requires `clientToken`, which the runner
        adds per attempt (an app name, so of the same charset as this job's): checked with this job's."""
        from airflow_eks_data.validate.emr import emr_serverless_request_problems

        return emr_serverless_request_problems({"clientToken": job.app_name, **document["request"]})


class SparkSubmitRenderer:
    def render(self, job: ResolvedJob) -> dict[str, Any]:
        local = render_spark_submit(job)
        return {"argv": local.argv, "env": local.env, "dropped": local.dropped}

    def explain(self, job: ResolvedJob) -> Explained:
        return explain_spark_submit(job)

    def problems(self, job: ResolvedJob, document: Mapping[str, Any], crd: str | Path | None) -> list[Problem]:
        return []


SPARK_APPLICATION = SparkApplicationRenderer()
EMR_JOB_RUN = EmrJobRunRenderer()
EMR_SERVERLESS_JOB_RUN = EmrServerlessJobRunRenderer()
SPARK_SUBMIT = SparkSubmitRenderer()
