"""Wait for an EMR on EKS job run to end, deferrably, on the virtual cluster's shared poller.

The event carries the final `jobRun` (state, failureReason, stateDetails, retry-policy execution) as
`EmrEvidence`, or `TimedOut` / `Cancelled` evidence, plus the operator's attempt state echoed back
(`polled_job_run`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_eks_data.outcomes import EmrEvidence
from airflow_eks_data.triggers.job_run_poller import POLL_RETRIES
from airflow_eks_data.triggers.polled_job_run import PolledJobRunTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook


class EmrEksJobRunTrigger(PolledJobRunTrigger):
    """Fires once the job run is COMPLETED, FAILED or CANCELLED, is not found, or its deadline passed.

    :param virtual_cluster_id: the run's virtual cluster; the other parameters are `PolledJobRunTrigger`'s.
    """

    location_field = "virtual_cluster_id"

    def __init__(self, virtual_cluster_id: str, job_run_id: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(virtual_cluster_id, job_run_id, *args, **kwargs)

    @property
    def virtual_cluster_id(self) -> str:
        return self.location

    def _hook(self) -> AsyncEmrEksHook:
        from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook

        return AsyncEmrEksHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, retry=POLL_RETRIES)

    async def _evidence(self, job_run: dict[str, Any]) -> dict[str, Any]:
        return EmrEvidence(job_run=job_run).to_dict()


__all__ = ["EmrEksJobRunTrigger"]
