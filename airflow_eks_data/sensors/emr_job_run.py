"""Wait on an EMR on EKS job run submitted elsewhere (another DAG, a CLI, a service)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from airflow_eks_data.outcomes import EMR_JOB_RUN, Classification, EmrEvidence, Outcome, classify
from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger
from airflow_eks_data.triggers.events import event_classification

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_eks_data.hooks.emr_on_eks import EmrEksHook


class EmrEksJobRunSensor(BaseSensorOperator):
    """Succeeds when the run COMPLETES; fails, with the classified reason, when it FAILS or is CANCELLED.

    It never cancels the run, not even when killed: it did not start it. Deferred, it joins the
    virtual cluster's shared poller, so a thousand sensors cost one ListJobRuns sweep per interval.

    :param virtual_cluster_id: the run's virtual cluster.
    :param job_run_id: the run's id.
    :param aws_conn_id: Airflow `aws` connection.
    :param region_name: overrides the connection's region.
    :param deferrable: wait in the triggerer (default) instead of poking from a worker.
    """

    template_fields: Sequence[str] = ("virtual_cluster_id", "job_run_id")

    def __init__(
        self,
        *,
        virtual_cluster_id: str,
        job_run_id: str,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.virtual_cluster_id = virtual_cluster_id
        self.job_run_id = job_run_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> EmrEksHook:
        from airflow_eks_data.hooks.emr_on_eks import EmrEksHook

        return EmrEksHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        self.defer(
            trigger=EmrEksJobRunTrigger(
                self.virtual_cluster_id,
                self.job_run_id,
                self.aws_conn_id,
                self.region_name,
                deadline=time.time() + float(self.timeout),
                poll_interval=float(self.poke_interval),
                cancel_on_kill=False,
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> bool:
        job_run = self.hook.describe_job_run(self.virtual_cluster_id, self.job_run_id)
        if job_run is None:
            raise AirflowException(f"EMR job run {self.virtual_cluster_id}/{self.job_run_id} does not exist")
        if job_run.get("state") not in EMR_JOB_RUN.terminal:
            return False
        return self._finish(classify(EmrEvidence(job_run=job_run)))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        classification, state = event_classification(event)
        self._finish(classification)
        return {
            "job_run_id": self.job_run_id,
            "virtual_cluster_id": self.virtual_cluster_id,
            "state": state,
            **classification.to_dict(),
        }

    def _finish(self, classification: Classification) -> bool:
        return finish(f"EMR job run {self.virtual_cluster_id}/{self.job_run_id}", classification)


def finish(run: str, classification: Classification) -> bool:
    """True for a success; else the sensor fails (a timeout as a sensor timeout) with the reason."""
    message = f"{run}: {classification.outcome.value}: {classification.reason}"
    if classification.outcome is Outcome.TIMED_OUT:
        raise AirflowSensorTimeout(message)
    if classification.outcome is not Outcome.SUCCEEDED:
        raise AirflowException(message)
    return True
