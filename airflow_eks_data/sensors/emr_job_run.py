"""Wait on an EMR on EKS job run submitted elsewhere (another DAG, a CLI, a service)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_eks_data.outcomes import EMR_JOB_RUN, Classification, EmrEvidence, classify
from airflow_eks_data.sensors.job_run import JobRunSensor, finish
from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger

__all__ = ["EmrEksJobRunSensor", "finish"]


class EmrEksJobRunSensor(JobRunSensor):
    """Succeeds when the run COMPLETES; fails, with the classified reason, when it FAILS or is CANCELLED.

    Deferred, it joins the virtual cluster's shared poller, so a thousand sensors cost one ListJobRuns
    sweep per interval.

    :param virtual_cluster_id: the run's virtual cluster; the other parameters are `JobRunSensor`'s.
    """

    template_fields: Sequence[str] = ("virtual_cluster_id", "job_run_id")
    location_field = "virtual_cluster_id"
    kind = "EMR job run"
    states = EMR_JOB_RUN
    trigger_type = EmrEksJobRunTrigger

    def __init__(self, *, virtual_cluster_id: str, job_run_id: str, **kwargs: Any) -> None:
        super().__init__(location=virtual_cluster_id, job_run_id=job_run_id, **kwargs)

    def _hook_type(self) -> type:
        from airflow_eks_data.hooks.emr_on_eks import EmrEksHook

        return EmrEksHook

    def _job_run(self) -> Mapping[str, Any] | None:
        run: Mapping[str, Any] | None = self.hook.describe_job_run(self.location, self.job_run_id)
        return run

    def _classify(self, job_run: Mapping[str, Any]) -> Classification:
        return classify(EmrEvidence(job_run=dict(job_run)))
