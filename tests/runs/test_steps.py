"""`next_step`: every decision of a run's life, with no I/O."""

from __future__ import annotations

import random

import pytest

from airflow_eks_data.outcomes import Classification, OnDemandEscalation, Outcome, RetrySettings
from airflow_eks_data.runs.state import Run, RunState
from airflow_eks_data.runs.steps import (
    BackoffElapsed,
    Began,
    Fail,
    Finished,
    Held,
    Hold,
    Resubmit,
    Submit,
    Submitted,
    Succeed,
    Wait,
    next_step,
)

SETTINGS = RetrySettings(interruption_retries=2, backoff_base_seconds=10, backoff_cap_seconds=60)
START = RunState(backend="spark_operator", key="k", try_number=1, started_at=100.0)
RUN = Run(name="app-1-1", location="datalake")


def finished(outcome: Outcome, last_state: str | None = "FAILED") -> Finished:
    return Finished(Classification(outcome=outcome, reason=outcome.value), last_state, {"running_s": 1.0})


def waiting(state: RunState = START, run: Run = RUN) -> RunState:
    return next_step(state, Submitted(run, 130.0), SETTINGS).state


def test_a_fresh_try_submits_and_an_adopted_run_is_waited_on() -> None:
    assert next_step(START, Began(), SETTINGS).action == Submit()
    adopted = Run(name="app-1-3", location="datalake", attempt=3)
    step = next_step(START, Began(adopted), SETTINGS)
    assert step.action == Wait() and step.state.run == adopted and step.state.attempt == 3


def test_submitted_records_the_run_and_waits() -> None:
    step = next_step(START, Submitted(RUN, 130.0), SETTINGS)
    assert step.action == Wait() and (step.state.run, step.state.submitted_at) == (RUN, 130.0)


def test_success() -> None:
    step = next_step(waiting(), finished(Outcome.SUCCEEDED, "COMPLETED"), SETTINGS)
    assert step.action == Succeed()
    assert [r.outcome for r in step.state.records] == [Outcome.SUCCEEDED]
    assert step.state.usage == ({"running_s": 1.0},)


def test_interruptions_resubmit_escalated_until_the_budget_is_spent() -> None:
    rng = random.Random(4)
    step = next_step(waiting(), finished(Outcome.INTERRUPTED), SETTINGS, rng)
    assert isinstance(step.action, Resubmit) and step.action.escalated and not step.action.cancel
    assert 0 <= step.action.delay_seconds <= 10
    state = step.state
    assert (state.attempt, state.interruptions, state.run) == (2, 1, None)
    assert state.escalation == OnDemandEscalation(driver_on_demand=True)
    assert next_step(state, BackoffElapsed(), SETTINGS).action == Submit()

    second = next_step(
        waiting(state, Run(name="app-1-2", location="datalake", attempt=2)),
        finished(Outcome.INTERRUPTED),
        SETTINGS,
        rng,
    )
    assert isinstance(second.action, Resubmit) and not second.action.escalated  # already on on-demand
    third = next_step(waiting(second.state, RUN), finished(Outcome.INTERRUPTED), SETTINGS, rng)
    assert isinstance(third.action, Fail) and not third.action.fail_fast
    assert "interruption budget spent (2)" in third.action.reason
    assert [r.attempt for r in third.state.records] == [1, 2, 1]


def test_application_failure_fails_fast_unless_the_job_opts_in() -> None:
    step = next_step(waiting(), finished(Outcome.FAILED), SETTINGS)
    assert isinstance(step.action, Fail) and step.action.fail_fast
    assert step.action.message == "app-1-1: failed: failed"
    retried = RetrySettings(retry_on_failure=True)
    again = next_step(waiting(), finished(Outcome.FAILED), retried)
    assert isinstance(again.action, Fail) and not again.action.fail_fast


@pytest.mark.parametrize(("last_state", "cancel"), [("RUNNING", True), (None, True), ("FAILED", False)])
def test_what_still_runs_is_cancelled(last_state: str | None, cancel: bool) -> None:
    step = next_step(waiting(), finished(Outcome.TIMED_OUT, last_state), SETTINGS)
    assert isinstance(step.action, Fail) and step.action.cancel is cancel


def test_a_finished_wait_needs_a_run() -> None:
    with pytest.raises(ValueError, match="without a run"):
        next_step(START, finished(Outcome.SUCCEEDED), SETTINGS)


def test_the_same_seed_gives_the_same_delay() -> None:
    delays = {
        next_step(waiting(), finished(Outcome.INTERRUPTED), SETTINGS, random.Random(9)).action.delay_seconds  # type: ignore[union-attr]
        for _ in range(3)
    }
    assert len(delays) == 1


def test_back_pressure_holds_the_same_attempt_until_the_deadline() -> None:
    rng = random.Random(1)
    step = next_step(START, Held("queue full", now=200.0, deadline=10_000.0), SETTINGS, rng)
    assert isinstance(step.action, Hold) and 0 <= step.action.delay_seconds <= 10
    assert (step.state.attempt, step.state.holds, step.state.records) == (1, 1, ())
    assert next_step(step.state, BackoffElapsed(), SETTINGS).action == Submit()
    again = next_step(step.state, Held("queue full", now=300.0, deadline=10_000.0), SETTINGS, rng)
    assert isinstance(again.action, Hold) and again.state.holds == 2 and 0 <= again.action.delay_seconds <= 20
    late = next_step(again.state, Held("queue full", now=9_999.0, deadline=10_000.0), SETTINGS, random.Random(3))
    assert isinstance(late.action, Fail) and not late.action.fail_fast
    assert "held back until the deadline (queue full)" in late.action.message


def test_a_resubmitted_attempt_starts_with_no_holds() -> None:
    held = next_step(START, Held("queue full", now=1.0, deadline=None), SETTINGS).state
    step = next_step(waiting(held), finished(Outcome.INTERRUPTED), SETTINGS)
    assert step.state.holds == 0 and step.state.attempt == 2
