"""The run's life as a pure function: `next_step(state, event) -> Step`.

The operator performs each step's action through its backend and feeds what happened back in as the
next event; every decision (adopt or submit, resubmit or fail, escalate, cancel what still runs) is
made here, with no I/O, so it can be tested and replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, NamedTuple

from airflow_eks_data.outcomes import Action, AttemptRecord, Classification, Decision, RetrySettings, decide
from airflow_eks_data.outcomes.retrying import backoff_delay
from airflow_eks_data.outcomes.states import ANY_FINISHED
from airflow_eks_data.runs.state import Run, RunState

# -- events: what happened ---------------------------------------------------------------------------


class Began(NamedTuple):
    """A try started; `adopted` is this task's run from an earlier try, still running or succeeded."""

    adopted: Run | None = None


class Submitted(NamedTuple):
    run: Run
    at: float


class Held(NamedTuple):
    """The backend could not take the attempt yet; `now` and the try's `deadline` bound the wait."""

    reason: str
    now: float
    deadline: float | None


class Finished(NamedTuple):
    """A wait ended with this verdict; `last_state` is the run's last known state, if any, and
    `app_id` the Spark application id, once the backend reported one."""

    classification: Classification
    last_state: str | None
    usage: dict[str, Any]
    app_id: str | None = None


class BackoffElapsed(NamedTuple):
    pass


Event = Began | Submitted | Held | Finished | BackoffElapsed

# -- actions: what to do next ------------------------------------------------------------------------


@dataclass(frozen=True)
class Submit:
    """Submit attempt `state.attempt`, placed as `state.escalation` says."""


@dataclass(frozen=True)
class Wait:
    """Wait for `state.run`, in the triggerer when the backend can."""


@dataclass(frozen=True)
class Resubmit:
    delay_seconds: float
    escalated: bool
    cancel: bool


@dataclass(frozen=True)
class Hold:
    """Submit the same attempt again after `delay_seconds`: back-pressure, not a failure."""

    delay_seconds: float
    reason: str


@dataclass(frozen=True)
class Fail:
    """Fail the task: `fail_fast` spends no Airflow retry; `reason` says why it is (not) retried."""

    fail_fast: bool
    message: str
    reason: str
    cancel: bool


@dataclass(frozen=True)
class Succeed:
    pass


Next = Submit | Wait | Resubmit | Hold | Fail | Succeed


@dataclass(frozen=True)
class Step:
    state: RunState
    action: Next
    decision: Decision | None = None


def next_step(state: RunState, event: Event, settings: RetrySettings, rng: random.Random | None = None) -> Step:
    """What to do after `event`; `rng` is injected so tests and replays get the same delays."""
    if isinstance(event, Began):
        if event.adopted is None:
            return Step(state, Submit())
        return Step(state.model_copy(update={"run": event.adopted, "attempt": event.adopted.attempt}), Wait())
    if isinstance(event, Submitted):
        return Step(state.model_copy(update={"run": event.run, "submitted_at": event.at}), Wait())
    if isinstance(event, BackoffElapsed):
        return Step(state, Submit())
    if isinstance(event, Held):
        return _held(state, event, settings, rng or random.Random())
    return _finished(state, event, settings, rng or random.Random())


def _held(state: RunState, event: Held, settings: RetrySettings, rng: random.Random) -> Step:
    """Back-pressure waits out the same backoff as a resubmission, for as long as the try may run."""
    held = state.model_copy(update={"holds": state.holds + 1})
    delay = backoff_delay(held.holds, settings.backoff_base_seconds, settings.backoff_cap_seconds, rng)
    if event.deadline is not None and event.now + delay > event.deadline:
        message = f"attempt {state.attempt}: held back until the deadline ({event.reason})"
        return Step(held, Fail(False, message, "timed out waiting for capacity; Airflow retries apply", False))
    return Step(held, Hold(round(delay, 3), event.reason))


def _finished(state: RunState, event: Finished, settings: RetrySettings, rng: random.Random) -> Step:
    if state.run is None:
        raise ValueError("a wait finished for a state without a run")
    run, verdict = state.run, event.classification
    decision = decide(verdict, interruptions_so_far=state.interruptions, settings=settings, rng=rng)
    done = state.model_copy(
        update={
            "interruptions": decision.interruptions,
            "records": (*state.records, AttemptRecord.of(run.attempt, verdict, decision, run.name)),
            "usage": (*state.usage, event.usage),
        }
    )
    # A wait that timed out or got stuck leaves the run going: nothing may keep running.
    cancel = event.last_state not in ANY_FINISHED
    if decision.action is Action.SUCCEED:
        return Step(done, Succeed(), decision)
    if decision.action is Action.RESUBMIT:
        escalated = decision.escalation != state.escalation
        again = done.model_copy(
            update={
                "attempt": state.attempt + 1,
                "escalation": decision.escalation,
                "run": None,
                "submitted_at": None,
                "holds": 0,
            }
        )
        return Step(again, Resubmit(decision.delay_seconds, escalated, cancel), decision)
    message = f"{run.name}: {verdict.outcome.value}: {verdict.reason}"
    return Step(done, Fail(decision.action is Action.FAIL_FAST, message, decision.reason, cancel), decision)
