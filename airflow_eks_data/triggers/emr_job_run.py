"""Wait for an EMR on EKS job run to end, deferrably, on the virtual cluster's shared poller.

The event carries the final `jobRun` (state, failureReason, stateDetails, retry-policy execution) as
`EmrEvidence`, or `TimedOut` / `Cancelled` evidence, plus the operator's attempt state echoed back:
the event, not the deferral kwargs, is the one channel that survives a triggerer restart and `dags test`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_eks_data.outcomes import Cancelled, EmrEvidence, TimedOut
from airflow_eks_data.triggers.job_run_poller import POLL_RETRIES, POLLERS, JobRunMissing, Waiter

if TYPE_CHECKING:
    from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook


class EmrEksJobRunTrigger(BaseTrigger):
    """Fires once the job run is COMPLETED, FAILED or CANCELLED, is not found, or its deadline passed.

    :param virtual_cluster_id: the run's virtual cluster.
    :param job_run_id: the run's id.
    :param aws_conn_id: Airflow `aws` connection (credentials, role, region, endpoint).
    :param region_name: overrides the connection's region.
    :param started_at: epoch seconds the run was submitted; bounds the shared sweep's `createdAfter`
        (None: unknown, the poller learns it with one DescribeJobRun).
    :param deadline: epoch seconds after which the wait ends as timed out.
    :param poll_interval: seconds between sweeps (the poller uses the smallest of its waiters').
    :param cancel_on_kill: cancel the run when a user kills the task (never for sensors).
    :param state: opaque operator state, returned unchanged in the event.
    """

    def __init__(
        self,
        virtual_cluster_id: str,
        job_run_id: str,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        *,
        started_at: float | None = None,
        deadline: float | None = None,
        poll_interval: float = 30.0,
        cancel_on_kill: bool = True,
        state: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.virtual_cluster_id = virtual_cluster_id
        self.job_run_id = job_run_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.started_at = started_at
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.cancel_on_kill = cancel_on_kill
        self.state = state or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "virtual_cluster_id": self.virtual_cluster_id,
                "job_run_id": self.job_run_id,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "started_at": self.started_at,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "cancel_on_kill": self.cancel_on_kill,
                "state": self.state,
            },
        )

    def _hook(self) -> AsyncEmrEksHook:
        # Imported here: botocore and the amazon provider are slow to import, and DAG files never need them.
        from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook

        return AsyncEmrEksHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, retry=POLL_RETRIES)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        payload = await self.wait()
        yield TriggerEvent(
            {**payload, "name": self.job_run_id, "namespace": self.virtual_cluster_id, "state": self.state}
        )

    async def wait(self) -> dict[str, Any]:
        """Wait until the run ends; return `{"evidence": ...}`."""
        created_after = datetime.fromtimestamp(self.started_at, UTC) if self.started_at is not None else None
        key = (self.aws_conn_id, self.region_name, self.virtual_cluster_id)
        async with POLLERS.subscribe(
            key, self.virtual_cluster_id, self.job_run_id, created_after, self.poll_interval, self._hook
        ) as waiter:
            return await self._outcome(waiter)

    async def _outcome(self, waiter: Waiter) -> dict[str, Any]:
        timeout = None if self.deadline is None else max(self.deadline - time.time(), 0.0)
        try:
            job_run = await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            started = self.started_at if self.started_at is not None else self.deadline or 0.0
            waited = (self.deadline or 0.0) - started
            return {"evidence": TimedOut(stage="run", timeout_seconds=waited, last_state=waiter.last_state).to_dict()}
        except JobRunMissing as missing:
            detail = str(missing)
            return {"evidence": Cancelled(by="external", last_state=waiter.last_state, detail=detail).to_dict()}
        return {"evidence": EmrEvidence(job_run=job_run).to_dict()}

    async def on_kill(self) -> None:
        """A user killed the task (Airflow 3.3+): cancel what this task started, so nothing is orphaned."""
        if self.cancel_on_kill:
            self.log.info("Cancelling EMR job run %s in %s", self.job_run_id, self.virtual_cluster_id)
            await self._hook().cancel_job_run(self.virtual_cluster_id, self.job_run_id)


__all__ = ["EmrEksJobRunTrigger"]
