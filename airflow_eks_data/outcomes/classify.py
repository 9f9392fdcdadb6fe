"""One entry point for every way a wait can end, so backends never pick a classifier themselves."""

from __future__ import annotations

from airflow_eks_data.outcomes.emr import classify_emr
from airflow_eks_data.outcomes.emr_serverless import classify_emr_serverless
from airflow_eks_data.outcomes.evidence import (
    Cancelled,
    EmrEvidence,
    EmrServerlessEvidence,
    Evidence,
    SparkOperatorEvidence,
    TimedOut,
)
from airflow_eks_data.outcomes.model import Classification, Outcome
from airflow_eks_data.outcomes.spark_operator import classify_spark_operator


def _timed_out(ev: TimedOut) -> Classification:
    what = "pods got no capacity" if ev.stage == "startup" else "the job did not finish"
    knob = "startup_timeout" if ev.stage == "startup" else "timeout"
    lines = [f"{knob}={ev.timeout_seconds:g}s"]
    if ev.last_state:
        lines.append(f"last state: {ev.last_state}")
    if ev.detail:
        lines.append(ev.detail)
    return Classification(
        outcome=Outcome.TIMED_OUT,
        reason=f"{what} within {knob} ({ev.timeout_seconds:g}s)",
        evidence=tuple(lines),
    )


def _cancelled(ev: Cancelled) -> Classification:
    who = "Airflow stopped the task" if ev.by == "airflow" else "the run was deleted or cancelled outside Airflow"
    lines = [f"last state: {ev.last_state}"] if ev.last_state else []
    if ev.detail:
        lines.append(ev.detail)
    return Classification(outcome=Outcome.CANCELLED, reason=who, evidence=tuple(lines))


def classify(evidence: Evidence) -> Classification:
    """Classify any wait ending; raises NotTerminalError if the run can still change state."""
    if isinstance(evidence, SparkOperatorEvidence):
        return classify_spark_operator(evidence)
    if isinstance(evidence, EmrEvidence):
        return classify_emr(evidence)
    if isinstance(evidence, EmrServerlessEvidence):
        return classify_emr_serverless(evidence)
    if isinstance(evidence, TimedOut):
        return _timed_out(evidence)
    return _cancelled(evidence)
