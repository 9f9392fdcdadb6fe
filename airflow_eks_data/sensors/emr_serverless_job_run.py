"""Wait on an EMR Serverless job run submitted elsewhere (another DAG, a CLI, a service)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException

from airflow_eks_data.outcomes import EMR_SERVERLESS_JOB_RUN, EmrServerlessEvidence, classify
from airflow_eks_data.sensors.emr_job_run import finish
from airflow_eks_data.triggers.emr_serverless_job_run import EmrServerlessJobRunTrigger
from airflow_eks_data.triggers.events import event_classification

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_eks_data.hooks.emr_serverless import EmrServerlessHook


class EmrServerlessJobRunSensor(BaseSensorOperator):
    """Succeeds when the run reaches SUCCESS; fails, with the classified reason, when it FAILS or is CANCELLED.

    It never cancels the run, not even when killed: it did not start it. Deferred, it joins the
    application's shared poller, so a thousand sensors cost one ListJobRuns sweep per interval.

    :param application_id: the run's EMR Serverless application.
    :param job_run_id: the run's id.
    :param aws_conn_id: Airflow `aws` connection.
    :param region_name: overrides the connection's region.
    :param deferrable: wait in the triggerer (default) instead of poking from a worker.
    """

    template_fields: Sequence[str] = ("application_id", "job_run_id")

    def __init__(
        self,
        *,
        application_id: str,
        job_run_id: str,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.application_id = application_id
        self.job_run_id = job_run_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.deferrable = deferrable

    @property
    def label(self) -> str:
        return f"EMR Serverless job run {self.application_id}/{self.job_run_id}"

    @cached_property
    def hook(self) -> EmrServerlessHook:
        from airflow_eks_data.hooks.emr_serverless import EmrServerlessHook

        return EmrServerlessHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        trigger = EmrServerlessJobRunTrigger(
            self.application_id,
            self.job_run_id,
            self.aws_conn_id,
            self.region_name,
            deadline=time.time() + float(self.timeout),
            poll_interval=float(self.poke_interval),
            cancel_on_kill=False,
        )
        self.defer(trigger=trigger, method_name="execute_complete")

    def poke(self, context: Context) -> bool:
        job_run = self.hook.get_job_run(self.application_id, self.job_run_id)
        if job_run is None:
            raise AirflowException(f"{self.label} does not exist")
        if job_run.get("state") not in EMR_SERVERLESS_JOB_RUN.terminal:
            return False
        attempts = (
            self.hook.list_job_run_attempts(self.application_id, self.job_run_id)
            if job_run.get("attempt", 1) > 1
            else []
        )
        return finish(self.label, classify(EmrServerlessEvidence(job_run=job_run, attempts=tuple(attempts))))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        classification, state = event_classification(event)
        finish(self.label, classification)
        return {
            "job_run_id": self.job_run_id,
            "application_id": self.application_id,
            "state": state,
            **classification.to_dict(),
        }
