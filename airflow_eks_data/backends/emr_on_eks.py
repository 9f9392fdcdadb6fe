"""Submit EMR on EKS job runs, idempotently per attempt, and find them again after a worker died."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_eks_data.backends.aws_job_runs import ADOPT_WINDOW, AwsJobRunBackend, tagged_request
from airflow_eks_data.backends.base import TASK_KEY_MARK, Attempt
from airflow_eks_data.outcomes.retrying import Backoff
from airflow_eks_data.outcomes.states import EMR_JOB_RUN
from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.runs.state import Run
from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_on_eks import EmrEksHook

__all__ = ["ADOPT_WINDOW", "IN_WORKER", "EmrOnEksBackend"]

IN_WORKER = Backoff(max_tries=3, base_seconds=2.0, cap_seconds=10.0)
"""Back-pressure StartJobRun meets in the worker before the attempt is held back to wait in the triggerer."""


class EmrOnEksBackend(AwsJobRunBackend["EmrEksHook"]):
    states = EMR_JOB_RUN
    trigger_type = EmrEksJobRunTrigger

    def _hook_type(self) -> type[EmrEksHook]:
        from airflow_eks_data.hooks.emr_on_eks import EmrEksHook

        return EmrEksHook

    def _job_run(self, location: str, run_id: str) -> Mapping[str, Any] | None:
        return self.hook.describe_job_run(location, run_id)

    def _location(self, job: ResolvedJob) -> str:
        if job.tenant.emr is None:
            raise AirflowFailException(f"tenant {job.tenant_name} has no EMR virtual cluster")
        return job.tenant.emr.virtual_cluster_id

    def _tagged_run(
        self, location: str, key: str, states: Collection[str], since: datetime
    ) -> tuple[str, Mapping[str, str]] | None:
        found = self.hook.find_job_runs(location, tags={TASK_KEY_MARK: key}, states=states, created_after=since)
        return (str(found[0]["id"]), found[0].get("tags") or {}) if found else None

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        request = tagged_request(prepared, attempt)
        self.hook.upload_pod_templates(prepared.document["podTemplates"])
        with self._submission("StartJobRun"):
            started = self.hook.start_job_run(request, IN_WORKER)
        return Run(name=str(started["id"]), location=request["virtualClusterId"], attempt=attempt.number)

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
