"""Wait for an EMR Serverless job run to end, deferrably, on the application's shared poller.

One ListJobRuns sweep per (connection, region, application) per interval serves every wait there.
A success settles from the listing; GetJobRun is called only for runs that ended otherwise (the
list has no stateDetails to classify them by), and ListJobRunAttempts only when the run's `attempt`
says the service retried it. The billed utilisation of a success is read once, by the worker's
`result()`, not by every wait.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow_eks_data.outcomes import EmrServerlessEvidence
from airflow_eks_data.outcomes.states import EMR_SERVERLESS_JOB_RUN
from airflow_eks_data.triggers.job_run_poller import POLL_RETRIES, JobRunApi
from airflow_eks_data.triggers.polled_job_run import PolledJobRunTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_serverless import AsyncEmrServerlessHook

log = logging.getLogger(__name__)

EMR_SERVERLESS_API = JobRunApi(EMR_SERVERLESS_JOB_RUN, describe_call="GetJobRun")


class EmrServerlessJobRunTrigger(PolledJobRunTrigger):
    """Fires once the job run is SUCCESS, FAILED or CANCELLED, is not found, or its deadline passed.

    :param application_id: the run's EMR Serverless application; the other parameters are
        `PolledJobRunTrigger`'s.
    """

    location_field = "application_id"
    api = EMR_SERVERLESS_API

    def __init__(self, application_id: str, job_run_id: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(application_id, job_run_id, *args, **kwargs)

    @property
    def application_id(self) -> str:
        return self.location

    def _hook(self) -> AsyncEmrServerlessHook:
        from airflow_eks_data.hooks.emr_serverless import AsyncEmrServerlessHook

        return AsyncEmrServerlessHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, retry=POLL_RETRIES)

    async def _evidence(self, job_run: dict[str, Any]) -> dict[str, Any]:
        attempts: list[dict[str, Any]] = []
        if int(job_run.get("attempt") or 1) > 1:
            try:
                attempts = await self._hook().list_job_run_attempts(self.location, self.job_run_id)
            except Exception as exc:  # the outcome stands without them: say so rather than fail the wait
                log.warning("ListJobRunAttempts %s failed (%s): the evidence lacks the attempts", self.job_run_id, exc)
        return EmrServerlessEvidence(job_run=job_run, attempts=tuple(attempts)).to_dict()


__all__ = ["EmrServerlessJobRunTrigger"]
