"""One ListJobRuns sweep per virtual cluster per interval, shared by every trigger waiting there.

EMR on EKS has no watch, and polling DescribeJobRun per job per interval (what the amazon provider's
`EmrContainerTrigger` does) costs a thousand calls per interval for a thousand waits, into an API that
throttles. Here all waits on one (connection, region, virtual cluster) in a triggerer share a poller:
- each interval, one ListJobRuns (every page) of the runs created since the oldest wait began (less a
  clock-skew margin) that are active or COMPLETED. Active runs are bounded by the cluster's
  concurrency, and COMPLETED ones by what finished since the oldest wait began; FAILED and CANCELLED
  runs are left out, so a run that is waited on and missing from the list has failed, been
  cancelled, or never existed;
- a run listed as COMPLETED settles its waits from the list; a missing one gets one DescribeJobRun,
  for its `failureReason`, `stateDetails` and retry-policy execution;
- a wait whose creation time is unknown (a sensor on someone else's run) is described once to learn
  it, which also settles it at once if the run has already ended;
- the interval is jittered downwards (so detection stays within one interval) and stretched while
  the API pushes back: a throttled sweep stretches it by half, up to 8 times, and each clean sweep halves
  the stretch again. Calls inside a sweep are retried briefly (`POLL_RETRIES`); beyond that the next sweep
  tries again, later.

The two calls are pluggable (`JobRunApi`): EMR Serverless's ListJobRuns / GetJobRun per application
run on the same loop, with its own state table, and a run listed as succeeded described too when the
list summary lacks what the outcome needs (EMR Serverless's billed utilisation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from airflow_eks_data.outcomes.retrying import Backoff, is_transient
from airflow_eks_data.outcomes.states import EMR_JOB_RUN, StateTable

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from airflow_eks_data.hooks.aws_api import JobRunListing

log = logging.getLogger(__name__)

LISTED_STATES = EMR_JOB_RUN.active | EMR_JOB_RUN.succeeded
"""What a sweep lists: a run that COMPLETED is settled from the list (nothing more to learn); one that
is absent FAILED or was CANCELLED, and only those are described, for failureReason and stateDetails."""
CLOCK_SKEW = timedelta(minutes=15)
"""Margin below the oldest wait's start for `createdAfter`: the worker's clock is not AWS's."""
MAX_PRESSURE = 8.0
STRETCH = 1.5
JITTER = 0.2
DESCRIBE_CONCURRENCY = 8
POLL_RETRIES = Backoff(max_tries=3, base_seconds=0.5, cap_seconds=5.0)


class JobRunHook(Protocol):
    """What a poller calls: `AsyncEmrEksHook` (per virtual cluster), `AsyncEmrServerlessHook` (per application)."""

    retries: int

    def client(self) -> AbstractAsyncContextManager[Any]: ...

    async def list_job_runs(
        self, location: str, created_after: datetime | None, states: Any, *, client: Any, on_page: Any
    ) -> JobRunListing: ...

    async def describe_job_run(self, location: str, job_run_id: str, *, client: Any) -> dict[str, Any] | None: ...


HookFactory = Callable[[], JobRunHook]


@dataclass(frozen=True)
class JobRunApi:
    """One service's job-run API as the poller sees it: its states, its call names, what the list lacks."""

    states: StateTable
    describe_call: str = "DescribeJobRun"
    describe_succeeded: bool = False
    """Describe a run the list shows succeeded too, for fields only the describe call returns."""

    @property
    def listed_states(self) -> frozenset[str]:
        return self.states.active | self.states.succeeded


EMR_ON_EKS_API = JobRunApi(EMR_JOB_RUN)


class JobRunMissing(Exception):
    """DescribeJobRun says the run does not exist in this virtual cluster."""


@dataclass(eq=False)
class Waiter:
    """One trigger's wait: resolved with the final `jobRun`, or with `JobRunMissing`."""

    job_run_id: str
    created_after: datetime | None
    interval: float
    future: asyncio.Future[dict[str, Any]]
    last_state: str | None = None


@dataclass
class PollerStats:
    sweeps: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    throttled_sweeps: int = 0


class JobRunPoller:
    """Polls one virtual cluster for all its waiters; runs while it has any."""

    def __init__(
        self,
        virtual_cluster_id: str,
        hook_factory: HookFactory,
        rng: random.Random | None = None,
        api: JobRunApi = EMR_ON_EKS_API,
    ) -> None:
        self.virtual_cluster_id = virtual_cluster_id
        """Where the runs are: a virtual cluster, or an EMR Serverless application."""
        self.hook_factory = hook_factory
        self.api = api
        self.rng = rng or random.Random()
        self.waiters: dict[str, set[Waiter]] = {}
        self.pressure = 1.0
        self.stats = PollerStats()
        self._task: asyncio.Task[None] | None = None

    # -- membership ---------------------------------------------------------------------------

    def add(self, job_run_id: str, created_after: datetime | None, interval: float) -> Waiter:
        waiter = Waiter(job_run_id, created_after, interval, asyncio.get_running_loop().create_future())
        self.waiters.setdefault(job_run_id, set()).add(waiter)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"emr-poller-{self.virtual_cluster_id}"
            )
        return waiter

    def remove(self, waiter: Waiter) -> None:
        waiters = self.waiters.get(waiter.job_run_id, set())
        waiters.discard(waiter)
        if not waiters:
            self.waiters.pop(waiter.job_run_id, None)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def interval(self) -> float:
        return min((w.interval for ws in self.waiters.values() for w in ws), default=30.0)

    def next_delay(self) -> float:
        """The pause before the next sweep: the interval, stretched by pressure, jittered downwards so
        that waits that began together do not sweep together, and detection stays within one interval."""
        return self.interval * self.pressure * (1.0 - JITTER * self.rng.random())

    # -- the loop -----------------------------------------------------------------------------

    async def _run(self) -> None:
        hook = self.hook_factory()
        while self.waiters:
            started = time.monotonic()
            try:
                async with hook.client() as client:
                    while self.waiters:
                        started = time.monotonic()
                        await self.sweep(hook, client)
                        await asyncio.sleep(max(self.next_delay() - (time.monotonic() - started), 0.0))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the client itself failed (credentials, endpoint): build a new one
                self._pushed_back(exc, "client")
                await asyncio.sleep(max(self.next_delay() - (time.monotonic() - started), 0.0))

    async def sweep(self, hook: JobRunHook, client: Any) -> None:
        """One pass over every waiter: describe the unknown, list the active, describe the ended."""
        self.stats.sweeps += 1
        retries_before = hook.retries
        unknown = [run_id for run_id, ws in self.waiters.items() if all(w.created_after is None for w in ws)]
        known = [run_id for run_id in self.waiters if run_id not in unknown]
        throttled = False
        if unknown:
            throttled |= await self._describe_all(hook, client, unknown)
        if known:
            since = min(w.created_after for run_id in known for w in self.waiters.get(run_id, ()) if w.created_after)

            def settle_completed(page: list[dict[str, Any]]) -> None:
                if self.api.describe_succeeded:
                    return  # settled once described
                for run in page:
                    if run.get("state") in self.api.states.succeeded and run["id"] in self.waiters:
                        self._settle(run["id"], run=run)

            try:
                listing = await hook.list_job_runs(
                    self.virtual_cluster_id,
                    since - CLOCK_SKEW,
                    self.api.listed_states,
                    client=client,
                    on_page=settle_completed,
                )
            except Exception as exc:
                if not is_transient(exc):  # refused (access denied, no such cluster): every wait fails alike
                    for run_id in known:
                        self._settle(run_id, error=exc)
                    return
                self._pushed_back(exc, "ListJobRuns")
                return
            self.stats.calls["ListJobRuns"] += listing.calls
            throttled |= listing.retried > 0
            listed = {run["id"]: run for run in listing.runs}
            ended = []
            for run_id in known:
                run = listed.get(run_id)
                if run_id not in self.waiters:
                    continue  # settled as its page arrived
                if run is None or (self.api.describe_succeeded and run.get("state") in self.api.states.succeeded):
                    ended.append(run_id)
                elif run.get("state") in self.api.states.succeeded:
                    self._settle(run_id, run=run)
                else:
                    self._note_state(run_id, run.get("state"))
            if ended:
                throttled |= await self._describe_all(hook, client, ended)
        if throttled or hook.retries > retries_before:
            self._stretch()
        else:
            self.pressure = max(1.0, self.pressure / 2)

    async def _describe_all(self, hook: JobRunHook, client: Any, run_ids: list[str]) -> bool:
        """Describe runs (a few at a time) and settle the ended ones; True if any call was refused."""
        gate = asyncio.Semaphore(DESCRIBE_CONCURRENCY)

        async def one(run_id: str) -> bool:
            async with gate:
                self.stats.calls[self.api.describe_call] += 1
                try:
                    run = await hook.describe_job_run(self.virtual_cluster_id, run_id, client=client)
                except Exception as exc:
                    if not is_transient(exc):
                        self._settle(run_id, error=exc)
                        return False
                    log.info("%s %s failed (%s); next sweep tries again", self.api.describe_call, run_id, exc)
                    return True
            if run is None:
                self._settle(run_id, error=JobRunMissing(f"job run {run_id} not found in {self.virtual_cluster_id}"))
            elif run.get("state") in self.api.states.terminal:
                self._settle(run_id, run=run)
            else:  # still active: it was created before our window, or the list lagged; widen the window
                self._note_state(run_id, run.get("state"))
                created = _parse_time(run.get("createdAt"))
                for waiter in self.waiters.get(run_id, ()):
                    if created and (waiter.created_after is None or created < waiter.created_after):
                        waiter.created_after = created
            return False

        results = await asyncio.gather(*(one(run_id) for run_id in run_ids))
        return any(results)

    def _note_state(self, run_id: str, state: Any) -> None:
        for waiter in self.waiters.get(run_id, ()):
            waiter.last_state = str(state) if state else waiter.last_state

    def _settle(self, run_id: str, run: dict[str, Any] | None = None, error: BaseException | None = None) -> None:
        for waiter in self.waiters.pop(run_id, set()):
            if waiter.future.done():
                continue
            if error is not None:
                waiter.future.set_exception(error)
            else:
                waiter.last_state = str((run or {}).get("state"))
                waiter.future.set_result(run or {})

    def _pushed_back(self, exc: BaseException, what: str) -> None:
        self._stretch()
        log.warning(
            "EMR poller of %s: %s failed (%s); next sweep in about %.0fs",
            self.virtual_cluster_id,
            what,
            exc,
            self.interval * self.pressure,
        )

    def _stretch(self) -> None:
        self.stats.throttled_sweeps += 1
        self.pressure = min(self.pressure * STRETCH, MAX_PRESSURE)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class PollerRegistry:
    """Process-wide: one `JobRunPoller` per (event loop, connection, region, virtual cluster or application)."""

    def __init__(self) -> None:
        self._pollers: dict[tuple[int, tuple[Any, ...]], JobRunPoller] = {}

    def get(self, key: tuple[Any, ...]) -> JobRunPoller | None:
        return self._pollers.get((id(asyncio.get_running_loop()), key))

    @contextlib.asynccontextmanager
    async def subscribe(
        self,
        key: tuple[Any, ...],
        virtual_cluster_id: str,
        job_run_id: str,
        created_after: datetime | None,
        interval: float,
        hook_factory: HookFactory,
        api: JobRunApi = EMR_ON_EKS_API,
    ) -> AsyncIterator[Waiter]:
        slot = (id(asyncio.get_running_loop()), key)
        poller = self._pollers.get(slot)
        if poller is None:
            poller = self._pollers[slot] = JobRunPoller(virtual_cluster_id, hook_factory, api=api)
        waiter = poller.add(job_run_id, created_after, interval)
        try:
            yield waiter
        finally:
            poller.remove(waiter)
            if not poller.waiters and self._pollers.get(slot) is poller:
                del self._pollers[slot]
                await poller.stop()


POLLERS = PollerRegistry()
