"""A wait on one AWS job run through the shared poller (`job_run_poller`), whatever the service.

The event carries the final job run as the service's evidence, or `TimedOut` / `Cancelled` evidence,
plus the operator's attempt state echoed back: the event, not the deferral kwargs, is the one channel
that survives a triggerer restart and `dags test`. A subclass names its location argument, its hook,
its poller API and its evidence; the waiting, the deadline and the cancel on kill are here, once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_eks_data.outcomes import Cancelled, TimedOut
from airflow_eks_data.triggers.job_run_poller import (
    EMR_ON_EKS_API,
    POLLERS,
    JobRunApi,
    JobRunHook,
    JobRunMissing,
    Waiter,
)


class PolledJobRunTrigger(BaseTrigger):
    """Fires once the job run is terminal, is not found, or its deadline passed.

    :param location: where the run is (a virtual cluster, an application): the subclass names it.
    :param job_run_id: the run's id.
    :param aws_conn_id: Airflow `aws` connection (credentials, role, region, endpoint).
    :param region_name: overrides the connection's region.
    :param started_at: epoch seconds the run was submitted; bounds the shared sweep's `createdAfter`
        (None: unknown, the poller learns it by describing the run once).
    :param deadline: epoch seconds after which the wait ends as timed out.
    :param poll_interval: seconds between sweeps (the poller uses the smallest of its waiters').
    :param cancel_on_kill: cancel the run when a user kills the task (never for sensors).
    :param state: opaque operator state, returned unchanged in the event.
    """

    location_field: ClassVar[str]
    """The name of the location argument, as `serialize()` writes it."""
    api: ClassVar[JobRunApi] = EMR_ON_EKS_API

    def __init__(
        self,
        location: str,
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
        self.location = location
        self.job_run_id = job_run_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.started_at = started_at
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.cancel_on_kill = cancel_on_kill
        self.state = state or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        names = ("job_run_id", "aws_conn_id", "region_name", "started_at", "deadline", "poll_interval")
        kwargs = {self.location_field: self.location} | {name: getattr(self, name) for name in names}
        kwargs |= {"cancel_on_kill": self.cancel_on_kill, "state": self.state}
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def _hook(self) -> Any:
        """The async hook (imported there: botocore is slow to import, and DAG files never need it)."""
        raise NotImplementedError

    async def _evidence(self, job_run: dict[str, Any]) -> dict[str, Any]:
        """The service's evidence of a run that ended."""
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        payload = await self.wait()
        yield TriggerEvent({**payload, "name": self.job_run_id, "namespace": self.location, "state": self.state})

    async def wait(self) -> dict[str, Any]:
        """Wait until the run ends; return `{"evidence": ...}`."""
        created_after = datetime.fromtimestamp(self.started_at, UTC) if self.started_at is not None else None
        key = (self.aws_conn_id, self.region_name, self.location)
        factory: Any = self._hook
        async with POLLERS.subscribe(
            key, self.location, self.job_run_id, created_after, self.poll_interval, factory, api=self.api
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
        return {"evidence": await self._evidence(job_run)}

    async def on_kill(self) -> None:
        """A user killed the task (Airflow 3.3+): cancel what this task started, so nothing is orphaned."""
        if self.cancel_on_kill:
            self.log.info("Cancelling job run %s in %s", self.job_run_id, self.location)
            hook: JobRunHook = self._hook()
            await hook.cancel_job_run(self.location, self.job_run_id)  # type: ignore[attr-defined]


__all__ = ["PolledJobRunTrigger"]
