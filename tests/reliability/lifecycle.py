"""Airflow's task lifecycle around the real operator, for many task instances at once.

Per try: a worker builds a fresh operator (as a worker parses the DAG), renders its templated fields
against a minimal context and calls `execute`; a `TaskDeferred` stores its trigger as `serialize()`
gives it, the triggerer runs it, and a worker (again a fresh operator) resumes with
`resume_execution(method_name, {"event": ...})`, until a value or an exception. An exception is
retried as Airflow's task runner decides (`AirflowFailException` or a retry policy's FAIL never are;
otherwise while `try_number <= retries`), as a new try with a fresh operator. Worker deaths drop the
worker's outcome on the floor: the try fails without an exception, and Airflow retries it.

Worker calls run in a thread pool (the operator's hooks are synchronous); triggers all run in the
caller's event loop (`Triggerer`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from airflow.sdk import Context
from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, ExecutorSafeguard
from airflow.sdk.definitions.retry_policy import RetryAction
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from airflow_eks_data.jobspec.profile import PlatformProfile
from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator
from airflow_eks_data.triggers.events import event_classification
from airflow_eks_data.triggers.resubmit import ResubmitAfterTrigger
from tests.reliability.triggerer import Triggerer, TriggerFailed
from tests.reliability.truth import JobPlan

RESUBMIT = f"{ResubmitAfterTrigger.__module__}.{ResubmitAfterTrigger.__qualname__}"


@dataclass(frozen=True)
class OperatorSettings:
    profile: PlatformProfile
    """Loaded once, as a DAG file that reads its profile at module level passes it: a worker that
    re-parses the DAG file per call would parse the YAML again, and that is not what is under test."""
    interruption_backoff: float = 0.2
    poll_interval: float = 1.0


def job_of(plan: JobPlan) -> dict[str, Any]:
    """The job as a DAG author writes it: templated arguments, the tenant's required labels, its code
    under the tenant's prefix (the example's `analytics` tenant pins its team and prefixes)."""
    team = "analytics" if plan.tenant == "analytics" else "data-platform"
    return {
        "name": plan.job_name,
        "tenant": plan.tenant,
        "main_application_file": f"s3://example-artifacts/{plan.tenant}/jobs/compact_table.py",
        "arguments": ["--table", f"t{plan.index}", "--part", "{{ ti.map_index }}", "--run", "{{ run_id }}"],
        "labels": {"team": team, "cost-center": "cc-42"},
    }


def operator(plan: JobPlan, settings: OperatorSettings) -> SparkOnEksOperator:
    return SparkOnEksOperator(
        task_id=plan.task_id,
        job=job_of(plan),
        profile=settings.profile,
        backend=plan.backend,
        retries=plan.retries,
        retry_delay=timedelta(0),
        interruption_retries=plan.budget,
        interruption_backoff=settings.interruption_backoff,
        poll_interval=settings.poll_interval,
    )


class TaskInstance:
    """What the operator reads of `context["ti"]`; XComs are kept per try."""

    def __init__(self, plan: JobPlan, try_number: int) -> None:
        self.dag_id, self.task_id, self.run_id = plan.dag_id, plan.task_id, plan.run_id
        self.map_index, self.try_number = plan.map_index, try_number
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def context_of(ti: TaskInstance) -> Context:
    """No `task_state_store`: a retry finds its run by the labels or tags of the backend."""
    context = {"ti": ti, "task_instance": ti, "run_id": ti.run_id, "map_index": ti.map_index, "outlet_events": {}}
    return cast("Context", context)


@dataclass(frozen=True)
class Deferred:
    classpath: str
    kwargs: dict[str, Any]
    method_name: str
    method_kwargs: dict[str, Any]


@dataclass(frozen=True)
class Returned:
    value: Any


@dataclass(frozen=True)
class Raised:
    error: str
    retry: bool
    """Whether Airflow would retry this try (policy and retries left)."""


Outcome = Deferred | Returned | Raised


def retryable(op: SparkOnEksOperator, exc: BaseException, try_number: int) -> bool:
    """Airflow's task runner: AirflowFailException and a retry policy's FAIL end the task; else it
    is retried while tries are left."""
    if isinstance(exc, AirflowFailException):
        return False
    policy = getattr(op, "retry_policy", None)
    if policy is not None:
        decision = policy.evaluate(exception=exc, try_number=try_number, max_tries=op.retries)
        if decision.action == RetryAction.FAIL:
            return False
    return try_number <= (op.retries or 0)


def work(make: Callable[[], SparkOnEksOperator], ti: TaskInstance, method: str, kwargs: dict[str, Any]) -> Outcome:
    """One worker call: a fresh operator, rendered, running `execute` or resuming at `method`."""
    op = make()
    context = context_of(ti)
    call: Callable[[], Any]
    if method == "execute":
        call = functools.partial(op.execute, context)
    else:
        call = functools.partial(op.resume_execution, method, kwargs, context)
    scope = contextvars.copy_context()
    scope.run(ExecutorSafeguard.tracker.set, op)  # what the task runner does around execute
    try:
        op.render_template_fields(context)
        value = scope.run(call)
    except TaskDeferred as deferred:
        classpath, trigger_kwargs = deferred.trigger.serialize()
        return Deferred(classpath, trigger_kwargs, deferred.method_name, dict(deferred.kwargs or {}))
    except Exception as exc:
        return Raised(f"{type(exc).__name__}: {exc}", retryable(op, exc, ti.try_number))
    return Returned(value)


@dataclass
class TryEnd:
    try_number: int
    how: str
    """success, failed (no retry), failed (retryable), or died (worker death at `detail`)."""
    detail: str = ""


@dataclass
class Verdict:
    """One finished wait, as the event says and as the truth says it ended."""

    name: str
    outcome: str
    reason: str


@dataclass
class TaskRecord:
    plan: JobPlan
    tries: list[TryEnd] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    result: Any = None
    still_running: list[str] = field(default_factory=list)
    """This task's runs that had not ended when the task did: orphans."""
    worker_calls: int = 0
    trigger_runs: int = 0
    seconds: float = 0.0

    @property
    def state(self) -> str:
        return "success" if self.tries and self.tries[-1].how == "success" else "failed"


class Lifecycle:
    """Runs task instances through tries, deferrals and deaths; shared by the whole campaign."""

    def __init__(
        self,
        triggerer: Triggerer,
        executor: Executor,
        settings: OperatorSettings,
        at_end: Callable[[JobPlan], list[str]],
    ) -> None:
        self.triggerer = triggerer
        self.executor = executor
        self.settings = settings
        self.at_end = at_end

    async def run(self, plan: JobPlan) -> TaskRecord:
        record = TaskRecord(plan)
        began = time.monotonic()
        try_number = 1
        while True:
            end = await self._try(plan, TaskInstance(plan, try_number), record)
            record.tries.append(end)
            if end.how in ("success", "failed"):
                break
            if end.how == "died" and try_number > plan.retries:
                break
            try_number += 1
        record.seconds = time.monotonic() - began
        record.still_running = self.at_end(plan)
        return record

    async def _call(self, plan: JobPlan, ti: TaskInstance, record: TaskRecord, method: str, kwargs: Any) -> Outcome:
        record.worker_calls += 1
        make = functools.partial(operator, plan, self.settings)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, work, make, ti, method, kwargs)

    async def _try(self, plan: JobPlan, ti: TaskInstance, record: TaskRecord) -> TryEnd:
        n = ti.try_number
        defers = completes = 0
        outcome = await self._call(plan, ti, record, "execute", {})
        while isinstance(outcome, Deferred):
            waits = outcome.classpath != RESUBMIT
            if waits:
                defers += 1
                if plan.death(n, "before_defer", defers):
                    return TryEnd(n, "died", f"before_defer #{defers}")
            record.trigger_runs += 1
            try:
                event = await self.triggerer.run(outcome.classpath, outcome.kwargs)
            except TriggerFailed as failed:
                lines = traceback.format_exception(failed)
                outcome = await self._call(
                    plan, ti, record, TRIGGER_FAIL_REPR, {"error": str(failed), "traceback": lines}
                )
                continue
            kwargs = {**outcome.method_kwargs, "event": event}
            if not waits:
                outcome = await self._call(plan, ti, record, outcome.method_name, kwargs)
                continue
            classification, _ = event_classification(event)
            record.verdicts.append(Verdict(str(event.get("name")), classification.outcome.value, classification.reason))
            completes += 1
            if plan.death(n, "complete_start", completes):
                return TryEnd(n, "died", f"complete_start #{completes}")
            outcome = await self._call(plan, ti, record, outcome.method_name, kwargs)
            if plan.death(n, "complete_end", completes):
                return TryEnd(n, "died", f"complete_end #{completes}")
        if isinstance(outcome, Returned):
            record.result = outcome.value
            return TryEnd(n, "success")
        return TryEnd(n, "retry" if outcome.retry else "failed", outcome.error)
