"""Wait on an EMR Serverless job run submitted elsewhere (another DAG, a CLI, a service)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_eks_data.outcomes import EMR_SERVERLESS_JOB_RUN, Classification, EmrServerlessEvidence, classify
from airflow_eks_data.sensors.job_run import JobRunSensor
from airflow_eks_data.triggers.emr_serverless_job_run import EmrServerlessJobRunTrigger


class EmrServerlessJobRunSensor(JobRunSensor):
    """Succeeds when the run reaches SUCCESS; fails, with the classified reason, when it FAILS or is CANCELLED.

    Deferred, it joins the application's shared poller, so a thousand sensors cost one ListJobRuns
    sweep per interval.

    :param application_id: the run's EMR Serverless application; the other parameters are `JobRunSensor`'s.
    """

    template_fields: Sequence[str] = ("application_id", "job_run_id")
    location_field = "application_id"
    kind = "EMR Serverless job run"
    states = EMR_SERVERLESS_JOB_RUN
    trigger_type = EmrServerlessJobRunTrigger

    def __init__(self, *, application_id: str, job_run_id: str, **kwargs: Any) -> None:
        super().__init__(location=application_id, job_run_id=job_run_id, **kwargs)

    def _hook_type(self) -> type:
        from airflow_eks_data.hooks.emr_serverless import EmrServerlessHook

        return EmrServerlessHook

    def _job_run(self) -> Mapping[str, Any] | None:
        run: Mapping[str, Any] | None = self.hook.get_job_run(self.location, self.job_run_id)
        return run

    def _classify(self, job_run: Mapping[str, Any]) -> Classification:
        # The service's own retries are evidence too: read them only when there were some.
        retried = job_run.get("attempt", 1) > 1
        attempts = self.hook.list_job_run_attempts(self.location, self.job_run_id) if retried else []
        return classify(EmrServerlessEvidence(job_run=dict(job_run), attempts=tuple(attempts)))
