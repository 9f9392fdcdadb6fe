"""Submit EMR Serverless job runs, idempotently per attempt, and find them again after a worker died.

A run's `location` is its application. ListJobRuns returns summaries without tags (and, unlike EMR on
EKS, has no name filter), so finding a task's run again lists the application's recent runs and reads
tags (GetJobRun) only for the runs whose name carries the task key. Every run this package starts is
named by `attempt_name`, which always keeps the key's first ten characters: a look before a first
submission, on an application with hundreds of recent runs, costs one listing and no GetJobRun.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_eks_data.backends.aws_job_runs import AwsJobRunBackend, tagged_request
from airflow_eks_data.backends.base import TASK_KEY_MARK, Attempt
from airflow_eks_data.outcomes.states import EMR_SERVERLESS_JOB_RUN
from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.runs.state import Run
from airflow_eks_data.triggers.emr_serverless_job_run import EmrServerlessJobRunTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_serverless import EmrServerlessHook


class EmrServerlessBackend(AwsJobRunBackend["EmrServerlessHook"]):
    states = EMR_SERVERLESS_JOB_RUN
    trigger_type = EmrServerlessJobRunTrigger

    def _hook_type(self) -> type[EmrServerlessHook]:
        from airflow_eks_data.hooks.emr_serverless import EmrServerlessHook

        return EmrServerlessHook

    def _job_run(self, location: str, run_id: str) -> Mapping[str, Any] | None:
        return self.hook.get_job_run(location, run_id)

    def _location(self, job: ResolvedJob) -> str:
        section = job.tenant.emr_serverless
        if section is None:
            raise AirflowFailException(f"tenant {job.tenant_name} has no EMR Serverless application")
        return section.application_id

    def _tagged_run(
        self, location: str, key: str, states: Collection[str], since: datetime
    ) -> tuple[str, Mapping[str, str]] | None:
        runs = self.hook.list_job_runs(location, states=states, created_after=since)
        runs.sort(key=lambda run: str(run.get("createdAt") or ""), reverse=True)
        for summary in (run for run in runs if key[:10] in str(run.get("name") or "")):
            tags = (self.hook.get_job_run(location, str(summary["id"])) or {}).get("tags") or {}
            if tags.get(TASK_KEY_MARK) == key:
                return str(summary["id"]), tags
        return None

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        from airflow_eks_data.hooks.emr_serverless import ApplicationUnavailable

        request = tagged_request(prepared, attempt)
        application = request["applicationId"]
        try:
            with self._submission("StartJobRun kept failing"):
                self._check_release(prepared.job, self.hook.start_application(application))
                started = self.hook.start_job_run(request, start_application=False)
        except ApplicationUnavailable as exc:
            raise AirflowException(f"EMR Serverless cannot take the job: {exc}") from exc
        return Run(name=str(started["jobRunId"]), location=application, attempt=attempt.number)

    def _check_release(self, job: ResolvedJob, app: Mapping[str, Any]) -> None:
        """A job run cannot change the application's release: one the profile does not expect is refused."""
        wanted = job.profile.emr_serverless.release_label
        if wanted and app.get("releaseLabel") != wanted:
            raise AirflowFailException(
                f"application {app.get('applicationId')} runs {app.get('releaseLabel')}, the profile expects {wanted}"
            )

    def links(self, job: ResolvedJob, run: Run, app_id: str) -> dict[str, str | None]:
        # The service's own Spark UI (live, then persistent): a presigned URL, so fetched for each report.
        return super().links(job, run, app_id) | {
            "spark_ui": self.hook.get_dashboard_for_job_run(run.location, run.name)
        }

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
        from airflow_eks_data.hooks.emr_serverless import log_locations

        job_run = self.hook.get_job_run(run.location, run.name) or {}
        monitoring = (job_run.get("configurationOverrides") or {}).get("monitoringConfiguration")
        return {
            "job_run_id": run.name,
            "emr_application_id": run.location,  # `application_id` is the Spark app id in the result
            "release_label": job_run.get("releaseLabel"),
            "service_attempts": job_run.get("attempt", 1),
            "billed_resource_utilization": job_run.get("billedResourceUtilization"),
            "total_execution_duration_seconds": job_run.get("totalExecutionDurationSeconds"),
            "log_locations": log_locations(monitoring, run.location, run.name, self.hook.conn_region_name),
        }
