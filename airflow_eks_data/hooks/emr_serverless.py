"""EMR Serverless (`emr-serverless`) access on the amazon provider's AWS hooks and `aws` connection.

`EmrServerlessHook` serves the worker: start the application if it is stopped, submit (idempotent by
`clientToken`), find a run again, cancel, read the dashboard link and the attempts. Its async twin
serves the triggerer: the paginated ListJobRuns sweep and the GetJobRun of runs that ended. Retries,
backoff, pagination and the `SubmissionFailed` verdict are those every AWS hook shares (`hooks.aws_api`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from airflow_eks_data.hooks.aws_api import (
    NOT_FOUND,
    AsyncJobRunHook,
    JobRunListing,
    RetryingAwsHook,
    error_code,
    jsonable,
    log_places,
)
from airflow_eks_data.outcomes.retrying import Backoff
from airflow_eks_data.outcomes.states import EMR_SERVERLESS_JOB_RUN
from airflow_eks_data.outcomes.submission import SUBMIT_RETRIES

log = logging.getLogger(__name__)

ENDING = EMR_SERVERLESS_JOB_RUN.terminal | {"CANCELLING"}
"""States in which CancelJobRun is refused because the run is over or being cancelled."""
STARTABLE = frozenset({"CREATED", "STOPPED"})
SETTLING = frozenset({"CREATING", "STARTING", "STOPPING"})
"""Application states that pass on their own: wait, then start (STOPPING) or use (the others)."""
ANY_MISSING = frozenset({NOT_FOUND, "ValidationException"})
"""GetJobRun and the dashboard refuse a malformed run id as invalid: no such run either way."""


class ApplicationUnavailable(RuntimeError):
    """The application cannot take job runs (terminated, missing, or it did not start in time)."""


def _listing_params(application_id: str, states: Collection[str] | None, created_after: datetime | None) -> dict:  # type: ignore[type-arg]
    params: dict[str, Any] = {"applicationId": application_id}
    if states:
        params["states"] = sorted(states)
    if created_after is not None:
        params["createdAtAfter"] = created_after
    return params


def log_locations(
    monitoring: Mapping[str, Any] | None, application_id: str, job_run_id: str, region: str | None
) -> dict[str, Any]:
    """Where EMR Serverless writes this run's logs, from its `monitoringConfiguration`: S3 objects and
    CloudWatch streams under `applications/<application>/jobs/<job run>/`, and the managed store
    (reached through the dashboard link) unless it was turned off."""
    monitoring = monitoring or {}
    cloudwatch = monitoring.get("cloudWatchLoggingConfiguration") or {}
    enabled = cloudwatch if cloudwatch.get("enabled") else None
    path = f"applications/{application_id}/jobs/{job_run_id}"
    found = log_places(enabled, monitoring.get("s3MonitoringConfiguration"), path, region)
    managed = monitoring.get("managedPersistenceMonitoringConfiguration") or {}
    found["managed_persistence"] = managed.get("enabled", True)
    return found


class _EmrServerlessBase(RetryingAwsHook):
    hook_name = "EMR Serverless (airflow-eks-data)"
    aws_service = "emr-serverless"
    ending = ENDING
    run_keys = ("applicationId", "jobRunId")


class EmrServerlessHook(_EmrServerlessBase):
    """Worker-side EMR Serverless calls (boto3)."""

    def get_application(self, application_id: str) -> dict[str, Any] | None:
        """GetApplication's `application`, or None if there is none."""
        app: dict[str, Any] | None = self._or_none(
            lambda: self.conn.get_application(applicationId=application_id), "GetApplication", "application"
        )
        return app

    def start_application(self, application_id: str, timeout: float = 600.0, poll: float = 5.0) -> dict[str, Any]:
        """Make the application STARTED: start it if CREATED or STOPPED, wait while it settles.

        A job run submitted to a stopped application waits for it anyway (auto-start), but one whose
        auto-start is off fails; starting here gives the real reason when it cannot start."""
        deadline = time.monotonic() + timeout
        started = False
        while True:
            app = self.get_application(application_id)
            state = (app or {}).get("state")
            if app is None:
                raise ApplicationUnavailable(f"EMR Serverless application {application_id} does not exist")
            if state == "STARTED":
                return app
            if state in STARTABLE and not started:
                self._retrying(lambda: self.conn.start_application(applicationId=application_id), "StartApplication")
                log.info("Starting EMR Serverless application %s (was %s)", application_id, state)
                started = True
            elif state not in SETTLING | STARTABLE:
                details = app.get("stateDetails") or "no details"
                raise ApplicationUnavailable(f"application {application_id} is {state} ({details}): it cannot run jobs")
            if time.monotonic() >= deadline:
                raise ApplicationUnavailable(f"application {application_id} still {state} after {timeout:g}s")
            time.sleep(poll)  # a stop in progress ends STOPPED, and is started then

    def start_job_run(
        self, request: dict[str, Any], settings: Backoff = SUBMIT_RETRIES, *, start_application: bool = True
    ) -> dict[str, Any]:
        """StartJobRun, idempotent through `clientToken` (a repeated call returns the first run), after
        starting the application; back-pressure is retried, `SubmissionFailed` says why it gave up."""
        if not request.get("clientToken"):
            raise ValueError("StartJobRun needs a deterministic clientToken for idempotent submission")
        if start_application:
            self.start_application(request["applicationId"])
        response = self._submit(lambda: self.conn.start_job_run(**request), "StartJobRun", settings)
        return jsonable({key: response[key] for key in ("applicationId", "jobRunId", "arn") if key in response})  # type: ignore[no-any-return]

    def list_job_runs(
        self, application_id: str, *, states: Collection[str] | None = None, created_after: datetime | None = None
    ) -> list[dict[str, Any]]:
        """ListJobRuns (summaries: no tags) filtered by state and `createdAtAfter`, every page."""
        return self._pages(
            "list_job_runs", "ListJobRuns", "jobRuns", _listing_params(application_id, states, created_after)
        )

    def get_job_run(self, application_id: str, job_run_id: str) -> dict[str, Any] | None:
        """GetJobRun's `jobRun` (tags, stateDetails, billed utilisation, attempt), or None."""
        run: dict[str, Any] | None = self._or_none(
            lambda: self.conn.get_job_run(applicationId=application_id, jobRunId=job_run_id),
            "GetJobRun",
            "jobRun",
            ANY_MISSING,
        )
        return run

    def list_job_run_attempts(self, application_id: str, job_run_id: str) -> list[dict[str, Any]]:
        """The attempts the service made of this run (its own retries under `retryPolicy`)."""
        params = {"applicationId": application_id, "jobRunId": job_run_id}
        return self._pages("list_job_run_attempts", "ListJobRunAttempts", "jobRunAttempts", params)

    def get_dashboard_for_job_run(self, application_id: str, job_run_id: str) -> str | None:
        """The run's Spark UI (live, or the persistent history): a presigned URL that expires; None if none."""
        found = self._or_none(
            lambda: self.conn.get_dashboard_for_job_run(applicationId=application_id, jobRunId=job_run_id),
            "GetDashboardForJobRun",
            "url",
            ANY_MISSING,
        )
        return str(found) if found else None

    def cancel_job_run(self, application_id: str, job_run_id: str) -> bool:
        """CancelJobRun; False if the run had already ended (or never existed), True if cancelled."""
        try:
            self._retrying(
                lambda: self.conn.cancel_job_run(applicationId=application_id, jobRunId=job_run_id), "CancelJobRun"
            )
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                return False
            run = self.get_job_run(application_id, job_run_id) if error_code(exc) == "ValidationException" else None
            if run is not None and run.get("state") in ENDING:
                return False
            raise
        log.info("Cancelled EMR Serverless job run %s of application %s", job_run_id, application_id)
        return True


class AsyncEmrServerlessHook(_EmrServerlessBase, AsyncJobRunHook):
    """Triggerer-side calls (aiobotocore); each method takes an open `client` (from `client()`) or opens one.

    `list_job_runs` and `describe_job_run` (GetJobRun) are the two calls `triggers.job_run_poller` makes."""

    describe_call = ("get_job_run", "GetJobRun")

    async def list_job_runs(
        self,
        application_id: str,
        created_after: datetime | None = None,
        states: Collection[str] | None = None,
        *,
        client: Any = None,
        on_page: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> JobRunListing:
        params = _listing_params(application_id, states, created_after)
        return await self._apages(client, "list_job_runs", "ListJobRuns", "jobRuns", params, on_page)

    async def list_job_run_attempts(
        self, application_id: str, job_run_id: str, *, client: Any = None
    ) -> list[dict[str, Any]]:
        params = {"applicationId": application_id, "jobRunId": job_run_id}
        listing = await self._apages(client, "list_job_run_attempts", "ListJobRunAttempts", "jobRunAttempts", params)
        return listing.runs
