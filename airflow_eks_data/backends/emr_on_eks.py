"""Submit EMR on EKS job runs, idempotently per attempt, and find them again after a worker died."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_eks_data.backends.base import Attempt, Connections, HeldBack, WaitSettings
from airflow_eks_data.links.urls import link_urls
from airflow_eks_data.outcomes.retrying import Backoff
from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.runs.state import Run
from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_on_eks import EmrEksHook

TASK_KEY_TAG = "airflow-eks-data/task-key"
TRY_TAG = "airflow-eks-data/try"
ATTEMPT_TAG = "airflow-eks-data/attempt"
IN_WORKER = Backoff(max_tries=3, base_seconds=2.0, cap_seconds=10.0)
"""Back-pressure StartJobRun meets in the worker before the attempt is held back to wait in the triggerer."""
ADOPT_WINDOW = timedelta(days=2)
"""How far back a retry looks for its task's job runs (ListJobRuns cannot filter by tag)."""


class EmrOnEksBackend:
    can_defer = True

    def __init__(self, connections: Connections) -> None:
        self.aws_conn_id = connections.aws_conn_id
        self.region_name = connections.region_name

    @cached_property
    def hook(self) -> EmrEksHook:
        # Imported here: boto3 and the amazon provider are slow to import, and DAG files never need them.
        from airflow_eks_data.hooks.emr_on_eks import EmrEksHook

        return EmrEksHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)

    def reattach(self, job: ResolvedJob, key: str, remembered: Run | None) -> Run | None:
        from airflow_eks_data.outcomes.states import EMR_JOB_RUN

        if remembered is not None:
            job_run = self.hook.describe_job_run(remembered.location, remembered.name)
            if job_run is not None and job_run.get("state") in EMR_JOB_RUN.active | EMR_JOB_RUN.succeeded:
                return remembered
        virtual_cluster = _virtual_cluster(job)
        created_after = datetime.now(UTC) - ADOPT_WINDOW
        for states in (EMR_JOB_RUN.active, EMR_JOB_RUN.succeeded):
            found = self.hook.find_job_runs(
                virtual_cluster, tags={TASK_KEY_TAG: key}, states=states, created_after=created_after
            )
            if found:
                attempt = int((found[0].get("tags") or {}).get(ATTEMPT_TAG, 1))
                return Run(name=str(found[0]["id"]), location=virtual_cluster, attempt=attempt)
        return None

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        from airflow_eks_data.hooks.emr_on_eks import SubmissionFailed

        request = dict(prepared.document["request"])
        # The attempt's name is deterministic, so a worker that dies after StartJobRun and retries it
        # gets the same run back instead of a second one.
        request["clientToken"] = prepared.job.app_name
        request["tags"] = {
            **request.get("tags", {}),
            TASK_KEY_TAG: attempt.key,
            TRY_TAG: str(attempt.try_number),
            ATTEMPT_TAG: str(attempt.number),
        }
        self.hook.upload_pod_templates(prepared.document["podTemplates"])
        try:
            started = self.hook.start_job_run(request, IN_WORKER)
        except SubmissionFailed as exc:
            if exc.verdict.infrastructure:
                raise HeldBack(f"StartJobRun: {exc.verdict.reason}") from exc
            raise AirflowFailException(f"StartJobRun refused the request: {exc.verdict.reason}") from exc
        return Run(name=str(started["id"]), location=request["virtualClusterId"], attempt=attempt.number)

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> EmrEksJobRunTrigger:
        connection = (self.aws_conn_id, self.region_name)
        return EmrEksJobRunTrigger(run.location, run.name, *connection, state=state, **wait.trigger_kwargs())

    def cancel(self, run: Run | None) -> None:
        if run is not None:
            self.hook.cancel_job_run(run.location, run.name)

    def log_tail(self, run: Run, lines: int) -> list[str]:
        return []  # driver logs are in CloudWatch or S3: see `log_locations` in the result

    def links(self, job: ResolvedJob, run: Run, app_id: str) -> dict[str, str | None]:
        ui = job.profile.ui
        templates = {"history": ui.history_server_url, "emr_job_run": ui.emr_job_run_url}
        region = self.region_name or self.hook.conn_region_name or ""
        return link_urls(templates, namespace=run.location, name=run.name, app_id=app_id, region=region)

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
        from airflow_eks_data.hooks.emr_on_eks import log_locations
        from airflow_eks_data.render.emr_on_eks import render_emr_job_run

        overrides = render_emr_job_run(job).request.get("configurationOverrides") or {}  # none with a template
        monitoring = overrides.get("monitoringConfiguration")
        return {
            "job_run_id": run.name,
            "virtual_cluster_id": run.location,
            "release_label": job.profile.emr.release_label,
            "log_locations": log_locations(monitoring, run.location, run.name, self.hook.conn_region_name),
        }


def _virtual_cluster(job: ResolvedJob) -> str:
    if job.tenant.emr is None:
        raise AirflowFailException(f"tenant {job.tenant_name} has no EMR virtual cluster")
    return job.tenant.emr.virtual_cluster_id
