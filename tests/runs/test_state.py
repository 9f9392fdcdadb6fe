"""The state that crosses deferrals and worker restarts: round trips, and the previous release's form."""

from __future__ import annotations

import json

import pytest

from airflow_eks_data.outcomes import Action, AttemptRecord, OnDemandEscalation, Outcome
from airflow_eks_data.runs.state import VERSION, Run, RunState
from airflow_eks_data.targets import Target

RECORD = AttemptRecord(
    attempt=1, run_id="compact-events-1-1", outcome=Outcome.INTERRUPTED, reason="spot", action=Action.RESUBMIT
)
STATE = RunState(
    backend=Target.EMR_ON_EKS,
    key="dag.task.run.-1",
    try_number=2,
    attempt=2,
    interruptions=1,
    escalation=OnDemandEscalation(driver_on_demand=True),
    started_at=1_700_000_000.5,
    submitted_at=1_700_000_030.0,
    run=Run(name="0000000abc", location="vc-123", attempt=2),
    records=(RECORD,),
    usage=({"queued_s": None, "running_s": 12.0},),
)


def test_round_trips_through_json() -> None:
    """What a trigger's kwargs carry: plain JSON, read back equal."""
    data = json.loads(json.dumps(STATE.to_dict()))
    assert data["version"] == VERSION
    assert RunState.from_dict(data, backend="ignored") == STATE


def test_reads_the_previous_release_mid_run() -> None:
    """An upgrade between `execute` and `execute_complete`: the untyped dict of the previous release,
    with the run's name and namespace in the event, continues the same attempt."""
    previous = {
        "key": "dag.task.run.-1",
        "try": 2,
        "attempt": 2,
        "interruptions": 1,
        "records": [RECORD.model_dump(mode="json")],
        "started": 1_700_000_000.5,
        "escalation": {"executors_on_demand": False, "driver_on_demand": True},
        "submitted": 1_700_000_030.0,
        "usage": [{"queued_s": None, "running_s": 12.0}],
    }
    event = {"name": "0000000abc", "namespace": "vc-123", "state": previous}
    assert RunState.from_dict(previous, backend=Target.EMR_ON_EKS, event=event) == STATE


def test_previous_release_resubmit_event_has_no_run() -> None:
    previous = {"key": "k", "try": 1, "attempt": 2, "interruptions": 1, "records": [], "started": 5.0}
    state = RunState.from_dict(previous, backend=Target.SPARK_OPERATOR)
    assert (state.run, state.attempt, state.escalation) == (None, 2, OnDemandEscalation())


def test_a_newer_version_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="version 3 is newer than this release reads"):
        RunState.from_dict({**STATE.to_dict(), "version": 3}, backend=Target.LOCAL)


def test_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        STATE.attempt = 3  # type: ignore[misc]
