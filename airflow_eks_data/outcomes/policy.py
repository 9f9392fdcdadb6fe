"""What to do after an attempt: succeed, resubmit (interruption), fail fast, or fail as infrastructure.

Interruptions are resubmitted inside the same Airflow try, so they never spend the task's Airflow
retries; once the interruption budget is spent the task fails as an infrastructure failure and the
normal Airflow retries apply. Application failures fail fast unless the job opts into retries.
"""

from __future__ import annotations

import random
from enum import Enum

from pydantic import Field, model_validator

from airflow_eks_data.outcomes.model import Classification, FrozenModel, Outcome
from airflow_eks_data.outcomes.retrying import backoff_delay


class RetrySettings(FrozenModel):
    """Per-job retry behaviour; the job spec and profile fields of the same names map onto it."""

    interruption_retries: int = Field(
        3, ge=0, le=20, description="Resubmissions after interruptions, not counted as Airflow retries."
    )
    retry_on_failure: bool = Field(
        False, description="Let Airflow retry application failures (by default they fail fast)."
    )
    backoff_base_seconds: float = Field(
        30.0, gt=0, description="First resubmission waits up to 30 s (full jitter); each further window doubles."
    )
    backoff_cap_seconds: float = Field(600.0, gt=0, description="Upper bound of one resubmission delay.")
    executors_on_demand_after: int | None = Field(
        None, ge=1, description="After this many interruptions, render executors on on-demand capacity."
    )
    driver_on_demand: bool = Field(
        True, description="After any interruption, pin the driver to on-demand if the profile had it on spot."
    )

    @model_validator(mode="after")
    def _cap_above_base(self) -> RetrySettings:
        if self.backoff_cap_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_cap_seconds must be >= backoff_base_seconds")
        return self


class Action(str, Enum):
    SUCCEED = "succeed"
    RESUBMIT = "resubmit"
    """New attempt inside the same Airflow try, after `delay_seconds`."""
    FAIL_FAST = "fail_fast"
    """Raise a non-retryable failure: Airflow retries are not spent (AirflowFailException)."""
    FAIL_INFRASTRUCTURE = "fail_infrastructure"
    """Raise an ordinary failure: the task's Airflow retries apply."""


class OnDemandEscalation(FrozenModel):
    """Placement overrides for the next attempt; both False means render as the profile says."""

    executors_on_demand: bool = False
    driver_on_demand: bool = False


class Decision(FrozenModel):
    action: Action
    reason: str
    delay_seconds: float = 0.0
    escalation: OnDemandEscalation = OnDemandEscalation()
    interruptions: int = Field(0, description="Interruptions counted so far, including this attempt's.")

    @property
    def airflow_retry_action(self) -> str | None:
        """`fail` / `default` for an Airflow retry policy (AIP-105); None when the task does not fail."""
        if self.action is Action.FAIL_FAST:
            return "fail"
        if self.action is Action.FAIL_INFRASTRUCTURE:
            return "default"
        return None


def escalation_for(interruptions: int, settings: RetrySettings) -> OnDemandEscalation:
    """Placement after `interruptions` losses; it only ever grows, so an escalated job stays escalated."""
    if interruptions < 1:
        return OnDemandEscalation()
    after = settings.executors_on_demand_after
    return OnDemandEscalation(
        executors_on_demand=after is not None and interruptions >= after,
        driver_on_demand=settings.driver_on_demand,
    )


def decide(
    classification: Classification,
    *,
    interruptions_so_far: int,
    settings: RetrySettings,
    rng: random.Random,
) -> Decision:
    """Decide the next step after one attempt.

    `interruptions_so_far` counts earlier interrupted attempts in this Airflow try (not this one).
    `rng` is injected so tests and replays get the same delays.
    """
    if interruptions_so_far < 0:
        raise ValueError("interruptions_so_far must be >= 0")
    outcome = classification.outcome
    count = interruptions_so_far
    if outcome is Outcome.SUCCEEDED:
        return Decision(action=Action.SUCCEED, reason="succeeded", interruptions=count)
    if outcome is Outcome.INTERRUPTED:
        count += 1
        if count <= settings.interruption_retries:
            delay = backoff_delay(count, settings.backoff_base_seconds, settings.backoff_cap_seconds, rng)
            return Decision(
                action=Action.RESUBMIT,
                reason=f"interruption {count} of {settings.interruption_retries} allowed: resubmitting",
                delay_seconds=round(delay, 3),
                escalation=escalation_for(count, settings),
                interruptions=count,
            )
        return Decision(
            action=Action.FAIL_INFRASTRUCTURE,
            reason=f"interruption budget spent ({settings.interruption_retries}); Airflow retries apply",
            interruptions=count,
        )
    if outcome is Outcome.FAILED:
        if settings.retry_on_failure:
            return Decision(
                action=Action.FAIL_INFRASTRUCTURE,
                reason="application failure; retry_on_failure lets Airflow retry",
                interruptions=count,
            )
        return Decision(action=Action.FAIL_FAST, reason="application failure: not retried", interruptions=count)
    if outcome is Outcome.TIMED_OUT:
        return Decision(
            action=Action.FAIL_INFRASTRUCTURE, reason="timed out; Airflow retries apply", interruptions=count
        )
    return Decision(action=Action.FAIL_FAST, reason="cancelled: not retried", interruptions=count)
