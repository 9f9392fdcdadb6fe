"""The metrics of a run, through Airflow's own Stats (StatsD, Datadog or OpenTelemetry, as configured).

All names start with `airflow_eks_data.` and carry the tags `tenant`, `job` and `backend`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_eks_data.observability.usage import Usage
from airflow_eks_data.outcomes import Outcome, metric_name
from airflow_eks_data.outcomes.record import METRIC_PREFIX

SUBMISSION_LATENCY = f"{METRIC_PREFIX}.submission_latency"
QUEUE_TIME = f"{METRIC_PREFIX}.queue_time"
RUN_TIME = f"{METRIC_PREFIX}.run_time"
EXECUTORS = f"{METRIC_PREFIX}.executors"
INTERRUPTIONS = f"{METRIC_PREFIX}.interruptions"
RESUBMISSIONS = f"{METRIC_PREFIX}.resubmissions"
COST = f"{METRIC_PREFIX}.cost"
HELD = f"{METRIC_PREFIX}.submission_held"
UNSCHEDULABLE = f"{METRIC_PREFIX}.startup.unschedulable"


def _stats() -> Any:
    from airflow.providers.common.compat.sdk import Stats

    return Stats


def submitted(seconds: float, tags: dict[str, str]) -> None:
    """Operator start (or the resubmission's) to the backend accepting the run, in ms."""
    _stats().timing(SUBMISSION_LATENCY, seconds * 1000, tags=tags)


def held(tags: dict[str, str]) -> None:
    """A submission the backend held back (a full queue): counted, then submitted again later."""
    _stats().incr(HELD, tags=tags)


def unschedulable(cause: str, role: str, tags: Mapping[str, str]) -> None:
    """Pods of a run still unscheduled past `pending_explain_after`: once per cause and role, from the
    trigger, tagged `cause` (no_node, quota, queue, unknown) and `role` (driver, executors)."""
    _stats().incr(UNSCHEDULABLE, tags={**tags, "cause": cause, "role": role})


def attempt(outcome: Outcome, usage: Usage, tags: dict[str, str]) -> None:
    """Once per attempt: `attempt.<outcome>`, and the times and executors the backend reported."""
    stats = _stats()
    stats.incr(metric_name(outcome), tags=tags)
    if usage.queued_s is not None:
        stats.timing(QUEUE_TIME, usage.queued_s * 1000, tags=tags)
    if usage.running_s is not None:
        stats.timing(RUN_TIME, usage.running_s * 1000, tags=tags)
    if usage.executors is not None:
        stats.gauge(EXECUTORS, usage.executors, tags=tags)


def run(result: Mapping[str, Any], tags: dict[str, str]) -> None:
    """Once per task try that reached a verdict, from its XCom result: `run.<outcome>`, interruptions,
    resubmissions, cost."""
    stats = _stats()
    stats.incr(f"{METRIC_PREFIX}.run.{result['outcome']}", tags=tags)
    stats.incr(INTERRUPTIONS, result["interruptions"], tags=tags)
    stats.incr(RESUBMISSIONS, len(result["attempts"]) - 1, tags=tags)
    if result.get("cost"):
        stats.gauge(COST, result["cost"]["amount"], tags=tags)
