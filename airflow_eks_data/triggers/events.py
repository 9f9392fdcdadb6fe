"""What a finished wait's trigger event means: shared by the operator, the sensor and the triggers.

Pure: no client imports, so operators and DAG files that need it stay cheap to import.
"""

from __future__ import annotations

from typing import Any

from airflow_eks_data.outcomes import (
    ANY_FINISHED,
    Cancelled,
    Classification,
    EmrEvidence,
    EmrServerlessEvidence,
    SparkOperatorEvidence,
    TimedOut,
    classify,
    evidence_from_dict,
)
from airflow_eks_data.outcomes.states import application_state

FINISHED = ANY_FINISHED
"""States after which nothing runs any more, for any backend (`outcomes.states.ANY_FINISHED`)."""


def app_state(application: dict[str, Any]) -> str:
    """`status.applicationState.state` of a SparkApplication ("" while it is new)."""
    return application_state(application.get("status") or {})


def event_classification(event: dict[str, Any]) -> tuple[Classification, str | None]:
    """The classification of a finished wait, and the application's last state (None if unknown)."""
    if "classification" in event:
        return Classification.model_validate(event["classification"]), event.get("last_state")
    evidence = evidence_from_dict(event["evidence"])
    last_state = None
    if isinstance(evidence, SparkOperatorEvidence) and evidence.snapshots:
        last_state = app_state({"status": evidence.snapshots[-1]})
    elif isinstance(evidence, EmrEvidence | EmrServerlessEvidence):
        last_state = evidence.job_run.get("state")
    elif isinstance(evidence, TimedOut | Cancelled):
        last_state = evidence.last_state
    return classify(evidence), last_state


def event_application_id(event: dict[str, Any]) -> str | None:
    """The Spark application id (`spark-...`) of the run, once the operator has reported it."""
    for snapshot in reversed(event.get("evidence", {}).get("snapshots") or ()):
        if snapshot.get("sparkApplicationId"):
            return str(snapshot["sparkApplicationId"])
    return None


async def first_event(trigger: Any) -> dict[str, Any]:
    """A trigger's first event, for a wait that stays in the worker (`deferrable=False`, local runs)."""
    async for event in trigger.run():
        return dict(event.payload)
    raise RuntimeError(f"{type(trigger).__name__} ended without an event")
