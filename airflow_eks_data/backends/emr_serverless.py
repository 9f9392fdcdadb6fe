"""Submit EMR Serverless job runs, idempotently per attempt, and find them again after a worker died.

A run's `location` is its application. ListJobRuns returns summaries without tags, so finding a
task's run again lists the application's recent runs and reads tags (GetJobRun) only for candidates:
the runs whose name carries the task key, and only if none of those is it, the other recent ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_eks_data.backends.base import Attempt, Connections, HeldBack, WaitSettings
from airflow_eks_data.backends.emr_on_eks import ADOPT_WINDOW, ATTEMPT_TAG, TASK_KEY_TAG, TRY_TAG
from airflow_eks_data.links.urls import link_urls
from airflow_eks_data.outcomes.states import EMR_SERVERLESS_JOB_RUN
from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.runs.state import Run
from airflow_eks_data.triggers.emr_serverless_job_run import EmrServerlessJobRunTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_serverless import EmrServerlessHook

ADOPTABLE = EMR_SERVERLESS_JOB_RUN.active | EMR_SERVERLESS_JOB_RUN.succeeded
MAX_UNHINTED = 50
"""GetJobRun calls a reattach may spend on recent runs whose name does not carry the task key."""


def log_locations(
    monitoring: Mapping[str, Any] | None, application_id: str, job_run_id: str, region: str | None
) -> dict[str, Any]:
    """Where EMR Serverless writes this run's logs, from its `monitoringConfiguration`: S3 objects and
    CloudWatch streams under `applications/<application>/jobs/<job run>/`, and the managed store
    (reached through the dashboard link) unless it was turned off."""
    monitoring = monitoring or {}
    path = f"applications/{application_id}/jobs/{job_run_id}"
    found: dict[str, Any] = {}
    cloudwatch = monitoring.get("cloudWatchLoggingConfiguration") or {}
    if cloudwatch.get("enabled") and cloudwatch.get("logGroupName"):
        prefix = cloudwatch.get("logStreamNamePrefix")
        found["cloudwatch"] = {
            "log_group": cloudwatch["logGroupName"],
            "log_stream_prefix": f"{prefix}/{path}" if prefix else path,
            "region": region,
        }
    s3 = monitoring.get("s3MonitoringConfiguration") or {}
    if s3.get("logUri"):
        found["s3"] = f"{str(s3['logUri']).rstrip('/')}/{path}/"
    managed = monitoring.get("managedPersistenceMonitoringConfiguration") or {}
    found["managed_persistence"] = managed.get("enabled", True)
    return found


class EmrServerlessBackend:
    can_defer = True

    def __init__(self, connections: Connections) -> None:
        self.aws_conn_id = connections.aws_conn_id
        self.region_name = connections.region_name
        self.log = connections.log

    @cached_property
    def hook(self) -> EmrServerlessHook:
        # Imported here: boto3 and the amazon provider are slow to import, and DAG files never need them.
        from airflow_eks_data.hooks.emr_serverless import EmrServerlessHook

        return EmrServerlessHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)

    def reattach(self, job: ResolvedJob, key: str, remembered: Run | None) -> Run | None:
        if remembered is not None:
            job_run = self.hook.get_job_run(remembered.location, remembered.name)
            if job_run is not None and job_run.get("state") in ADOPTABLE:
                return remembered
        application = _application(job)
        since = datetime.now(UTC) - ADOPT_WINDOW
        for states in (EMR_SERVERLESS_JOB_RUN.active, EMR_SERVERLESS_JOB_RUN.succeeded):
            runs = self.hook.list_job_runs(application, states=states, created_after=since)
            runs.sort(key=lambda run: str(run.get("createdAt") or ""), reverse=True)
            hinted = [run for run in runs if key[:10] in str(run.get("name") or "")]
            others = [run for run in runs if run not in hinted][:MAX_UNHINTED]
            for summary in (*hinted, *others):
                job_run = self.hook.get_job_run(application, str(summary["id"]))
                tags = (job_run or {}).get("tags") or {}
                if tags.get(TASK_KEY_TAG) == key:
                    return Run(name=str(summary["id"]), location=application, attempt=int(tags.get(ATTEMPT_TAG, 1)))
        return None

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        from airflow_eks_data.hooks.emr_on_eks import SubmissionFailed
        from airflow_eks_data.hooks.emr_serverless import ApplicationUnavailable

        request = dict(prepared.document["request"])
        # Deterministic per attempt: a worker that dies after StartJobRun and repeats it gets the same run.
        request["clientToken"] = prepared.job.app_name
        request["tags"] = {
            **request.get("tags", {}),
            TASK_KEY_TAG: attempt.key,
            TRY_TAG: str(attempt.try_number),
            ATTEMPT_TAG: str(attempt.number),
        }
        application = request["applicationId"]
        try:
            self._check_release(prepared.job, self.hook.start_application(application))
            started = self.hook.start_job_run(request, start_application=False)
        except ApplicationUnavailable as exc:
            raise AirflowException(f"EMR Serverless cannot take the job: {exc}") from exc
        except SubmissionFailed as exc:
            if exc.verdict.infrastructure:
                raise HeldBack(f"StartJobRun kept failing: {exc.verdict.reason}") from exc
            raise AirflowFailException(f"StartJobRun refused the request: {exc.verdict.reason}") from exc
        return Run(name=str(started["jobRunId"]), location=application, attempt=attempt.number)

    def _check_release(self, job: ResolvedJob, app: Mapping[str, Any]) -> None:
        """A job run cannot change the application's release: one the profile does not expect is refused."""
        wanted = job.profile.emr_serverless.release_label
        if wanted and app.get("releaseLabel") != wanted:
            raise AirflowFailException(
                f"application {app.get('applicationId')} runs {app.get('releaseLabel')}, the profile expects {wanted}"
            )

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> EmrServerlessJobRunTrigger:
        connection = (self.aws_conn_id, self.region_name)
        return EmrServerlessJobRunTrigger(run.location, run.name, *connection, state=state, **wait.trigger_kwargs())

    def cancel(self, run: Run | None) -> None:
        if run is not None:
            self.hook.cancel_job_run(run.location, run.name)

    def log_tail(self, run: Run, lines: int) -> list[str]:
        return []  # driver logs are in S3, CloudWatch or the managed store: see `log_locations` in the result

    def links(self, job: ResolvedJob, run: Run, app_id: str) -> dict[str, str | None]:
        ui = job.profile.ui
        templates = {"history": ui.history_server_url, "emr_job_run": ui.emr_job_run_url}
        region = self.region_name or self.hook.conn_region_name or ""
        urls = link_urls(templates, namespace=run.location, name=run.name, app_id=app_id, region=region)
        # The service's own Spark UI (live, then persistent): a presigned URL, so fetched for each report.
        return urls | {"spark_ui": self.hook.get_dashboard_for_job_run(run.location, run.name)}

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
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


def _application(job: ResolvedJob) -> str:
    section = job.tenant.emr_serverless
    if section is None:
        raise AirflowFailException(f"tenant {job.tenant_name} has no EMR Serverless application")
    return section.application_id
