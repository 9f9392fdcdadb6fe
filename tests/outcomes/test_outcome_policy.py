"""Policy: interruption budget, jittered back-off bounds, escalation, retry_on_failure."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from airflow_eks_data.outcomes import (
    Action,
    AttemptRecord,
    Classification,
    OnDemandEscalation,
    Outcome,
    RetrySettings,
    backoff_delay,
    decide,
    escalation_for,
    metric_name,
    outcome_summary,
)

INTERRUPTED = Classification(outcome=Outcome.INTERRUPTED, reason="spot", evidence=("SpotInterrupted",))
FAILED = Classification(outcome=Outcome.FAILED, reason="exit 1")


def _decide(c: Classification, so_far: int = 0, seed: int = 7, **settings: Any) -> Action:
    return decide(c, interruptions_so_far=so_far, settings=RetrySettings(**settings), rng=random.Random(seed)).action


def test_defaults_are_documented_values() -> None:
    s = RetrySettings()
    assert (s.interruption_retries, s.retry_on_failure) == (3, False)
    assert (s.backoff_base_seconds, s.backoff_cap_seconds) == (30.0, 600.0)
    assert (s.executors_on_demand_after, s.driver_on_demand) == (None, True)


def test_interruptions_resubmit_until_budget_then_fail_as_infrastructure() -> None:
    settings = RetrySettings()
    rng = random.Random(1)
    actions = []
    count = 0
    for _ in range(5):
        decision = decide(INTERRUPTED, interruptions_so_far=count, settings=settings, rng=rng)
        actions.append(decision.action)
        count = decision.interruptions
        if decision.action is not Action.RESUBMIT:
            break
    assert actions == [Action.RESUBMIT] * 3 + [Action.FAIL_INFRASTRUCTURE]
    assert count == 4


def test_zero_budget_never_resubmits() -> None:
    assert _decide(INTERRUPTED, interruption_retries=0) is Action.FAIL_INFRASTRUCTURE


@pytest.mark.parametrize("seed", range(50))
def test_backoff_within_full_jitter_bounds(seed: int) -> None:
    rng = random.Random(seed)
    for retry in range(1, 12):
        ceiling = min(600.0, 30.0 * 2 ** (retry - 1))
        delay = backoff_delay(retry, 30.0, 600.0, rng)
        assert 0 <= delay <= ceiling


def test_backoff_is_deterministic_for_a_seed_and_jittered_across_seeds() -> None:
    first = [backoff_delay(2, 30, 600, random.Random(42)) for _ in range(3)]
    assert len(set(first)) == 1
    spread = {backoff_delay(2, 30, 600, random.Random(s)) for s in range(20)}
    assert len(spread) == 20


def test_backoff_rejects_zero_based_retry() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0, 30, 600, random.Random(0))


def test_resubmit_delay_grows_with_interruptions_and_respects_cap() -> None:
    settings = RetrySettings(interruption_retries=10, backoff_base_seconds=10, backoff_cap_seconds=40)
    delays = [
        decide(INTERRUPTED, interruptions_so_far=n, settings=settings, rng=random.Random(3)).delay_seconds
        for n in range(6)
    ]
    assert 0 <= delays[0] <= 10
    assert 0 <= delays[1] <= 20
    assert all(0 <= d <= 40 for d in delays[2:])
    # One seed draws the same share of each window: the window doubles, then stops at the cap.
    assert delays[1] == pytest.approx(2 * delays[0], abs=0.002)
    assert delays[2] == pytest.approx(2 * delays[1], abs=0.002) and len(set(delays[2:])) == 1


def test_escalation_executors_after_n_and_driver_after_first() -> None:
    settings = RetrySettings(executors_on_demand_after=2)
    assert escalation_for(0, settings) == OnDemandEscalation()
    assert escalation_for(1, settings) == OnDemandEscalation(executors_on_demand=False, driver_on_demand=True)
    assert escalation_for(2, settings) == OnDemandEscalation(executors_on_demand=True, driver_on_demand=True)
    first = decide(INTERRUPTED, interruptions_so_far=0, settings=settings, rng=random.Random(0))
    second = decide(INTERRUPTED, interruptions_so_far=1, settings=settings, rng=random.Random(0))
    assert not first.escalation.executors_on_demand and second.escalation.executors_on_demand


def test_escalation_off() -> None:
    settings = RetrySettings(driver_on_demand=False)
    decision = decide(INTERRUPTED, interruptions_so_far=2, settings=settings, rng=random.Random(0))
    assert decision.escalation == OnDemandEscalation()


def test_failed_fails_fast_unless_retry_on_failure() -> None:
    assert _decide(FAILED) is Action.FAIL_FAST
    assert _decide(FAILED, retry_on_failure=True) is Action.FAIL_INFRASTRUCTURE


def test_failures_do_not_spend_the_interruption_budget() -> None:
    d = decide(FAILED, interruptions_so_far=2, settings=RetrySettings(), rng=random.Random(0))
    assert d.interruptions == 2


@pytest.mark.parametrize(
    ("outcome", "action", "airflow"),
    [
        (Outcome.SUCCEEDED, Action.SUCCEED, None),
        (Outcome.CANCELLED, Action.FAIL_FAST, "fail"),
        (Outcome.TIMED_OUT, Action.FAIL_INFRASTRUCTURE, "default"),
        (Outcome.FAILED, Action.FAIL_FAST, "fail"),
    ],
)
def test_other_outcomes(outcome: Outcome, action: Action, airflow: str | None) -> None:
    d = decide(
        Classification(outcome=outcome, reason="x"),
        interruptions_so_far=0,
        settings=RetrySettings(),
        rng=random.Random(0),
    )
    assert d.action is action
    assert d.airflow_retry_action == airflow


def test_settings_validate() -> None:
    with pytest.raises(ValidationError):
        RetrySettings(interruption_retries=-1)
    with pytest.raises(ValidationError):
        RetrySettings(backoff_base_seconds=100, backoff_cap_seconds=10)
    with pytest.raises(ValidationError):
        RetrySettings(unknown=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        decide(FAILED, interruptions_so_far=-1, settings=RetrySettings(), rng=random.Random(0))


def test_attempt_records_and_summary_are_json() -> None:
    rng = random.Random(5)
    first = decide(INTERRUPTED, interruptions_so_far=0, settings=RetrySettings(), rng=rng)
    ok = Classification(outcome=Outcome.SUCCEEDED, reason="COMPLETED")
    second = decide(ok, interruptions_so_far=first.interruptions, settings=RetrySettings(), rng=rng)
    records = [AttemptRecord.of(1, INTERRUPTED, first, "etl-a1"), AttemptRecord.of(2, ok, second, "etl-a2")]
    summary = outcome_summary(records)
    assert summary["outcome"] == "succeeded"
    assert summary["interruptions"] == 1
    entry = summary["attempts"][0]
    assert entry["outcome"] == "interrupted" and entry["action"] == "resubmit"
    assert entry["evidence"] == ["SpotInterrupted"]
    assert entry["escalation"] == {"executors_on_demand": False, "driver_on_demand": True}
    assert metric_name(Outcome.INTERRUPTED) == "airflow_eks_data.attempt.interrupted"
    assert outcome_summary([]) == {"outcome": None, "attempts": [], "interruptions": 0}
