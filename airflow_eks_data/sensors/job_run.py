"""What the EMR sensors share: poke a job run or defer to its trigger, classify it, succeed or raise.

A subclass names its location argument, its hook and trigger, how it reads the run and its evidence;
the sensor never cancels the run, not even when killed, because it did not start it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSensorTimeout

from airflow_eks_data.outcomes import Classification, Outcome
from airflow_eks_data.outcomes.states import StateTable
from airflow_eks_data.triggers.events import event_classification
from airflow_eks_data.triggers.polled_job_run import PolledJobRunTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


def finish(run: str, classification: Classification) -> bool:
    """True for a success; else the sensor fails (a timeout as a sensor timeout) with the reason."""
    message = f"{run}: {classification.outcome.value}: {classification.reason}"
    if classification.outcome is Outcome.TIMED_OUT:
        raise AirflowSensorTimeout(message)
    if classification.outcome is not Outcome.SUCCEEDED:
        raise AirflowException(message)
    return True


class JobRunSensor(BaseSensorOperator):
    """Succeeds when the run succeeds; fails, with the classified reason, when it fails or is cancelled.

    :param location: the run's location, as the subclass's own argument names it.
    :param job_run_id: the run's id.
    :param aws_conn_id: Airflow `aws` connection.
    :param region_name: overrides the connection's region.
    :param deferrable: wait in the triggerer (default) instead of poking from a worker.
    """

    location_field: ClassVar[str]
    """The location argument's name (a template field, so it is stored under that name)."""
    kind: ClassVar[str]
    """How messages name the run, e.g. `EMR job run`."""
    states: ClassVar[StateTable]
    trigger_type: ClassVar[type[PolledJobRunTrigger]]

    def __init__(
        self,
        *,
        location: str,
        job_run_id: str,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        setattr(self, self.location_field, location)
        self.job_run_id = job_run_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.deferrable = deferrable

    @property
    def location(self) -> str:
        return str(getattr(self, self.location_field))

    @property
    def label(self) -> str:
        return f"{self.kind} {self.location}/{self.job_run_id}"

    @cached_property
    def hook(self) -> Any:
        return self._hook_type()(aws_conn_id=self.aws_conn_id, region_name=self.region_name)

    def _hook_type(self) -> type:
        """The worker's hook class, imported when first needed (boto3 is slow to import)."""
        raise NotImplementedError

    def _job_run(self) -> Mapping[str, Any] | None:
        raise NotImplementedError

    def _classify(self, job_run: Mapping[str, Any]) -> Classification:
        """The classification of a run that ended."""
        raise NotImplementedError

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        trigger = self.trigger_type(
            self.location,
            self.job_run_id,
            self.aws_conn_id,
            self.region_name,
            deadline=time.time() + float(self.timeout),
            poll_interval=float(self.poke_interval),
            cancel_on_kill=False,
        )
        self.defer(trigger=trigger, method_name="execute_complete")

    def poke(self, context: Context) -> bool:
        job_run = self._job_run()
        if job_run is None:
            raise AirflowException(f"{self.label} does not exist")
        if job_run.get("state") not in self.states.terminal:
            return False
        return finish(self.label, self._classify(job_run))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        classification, state = event_classification(event)
        finish(self.label, classification)
        return {
            "job_run_id": self.job_run_id,
            self.location_field: self.location,
            "state": state,
        } | classification.to_dict()


__all__ = ["JobRunSensor", "finish"]
