"""The XCom shape of the outcome: one `attempts` entry per attempt, plus the interruption count."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from airflow_eks_data.outcomes.model import Classification, FrozenModel, Outcome
from airflow_eks_data.outcomes.policy import Action, Decision, OnDemandEscalation

METRIC_PREFIX = "airflow_eks_data"


class AttemptRecord(FrozenModel):
    """One attempt as an on-call engineer reads it in XCom: what happened, why, and what we did next."""

    attempt: int = Field(ge=1)
    run_id: str | None = Field(None, description="SparkApplication name or EMR job run id of this attempt.")
    outcome: Outcome
    reason: str
    evidence: tuple[str, ...] = ()
    action: Action
    delay_seconds: float = 0.0
    escalation: OnDemandEscalation = OnDemandEscalation()

    @classmethod
    def of(
        cls, attempt: int, classification: Classification, decision: Decision, run_id: str | None = None
    ) -> AttemptRecord:
        return cls(
            attempt=attempt,
            run_id=run_id,
            outcome=classification.outcome,
            reason=classification.reason,
            evidence=classification.evidence,
            action=decision.action,
            delay_seconds=decision.delay_seconds,
            escalation=decision.escalation,
        )


def outcome_summary(records: list[AttemptRecord]) -> dict[str, Any]:
    """`{"outcome", "attempts": [...], "interruptions": n}` for the task's XCom result."""
    return {
        "outcome": records[-1].outcome.value if records else None,
        "attempts": [r.model_dump(mode="json") for r in records],
        "interruptions": sum(r.outcome is Outcome.INTERRUPTED for r in records),
    }


def metric_name(outcome: Outcome) -> str:
    """Counter incremented once per attempt, e.g. `airflow_eks_data.attempt.interrupted`."""
    return f"{METRIC_PREFIX}.attempt.{outcome.value}"
