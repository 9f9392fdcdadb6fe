"""Outcome classification and the interruption-aware retry policy, as pure functions over API dicts.

Backends collect evidence (`SparkOperatorEvidence`, `EmrEvidence`, `TimedOut`, `Cancelled`), call
`classify()`, then `decide()`, and record an `AttemptRecord`. Nothing here does I/O or imports Airflow.
"""

from airflow_eks_data.outcomes.backoff import backoff_delay
from airflow_eks_data.outcomes.classify import classify
from airflow_eks_data.outcomes.emr import classify_emr
from airflow_eks_data.outcomes.evidence import (
    Cancelled,
    EmrEvidence,
    Evidence,
    KubeEvidence,
    SparkOperatorEvidence,
    TimedOut,
    evidence_from_dict,
)
from airflow_eks_data.outcomes.model import Classification, NotTerminalError, Outcome
from airflow_eks_data.outcomes.policy import (
    Action,
    Decision,
    OnDemandEscalation,
    RetrySettings,
    decide,
    escalation_for,
)
from airflow_eks_data.outcomes.record import AttemptRecord, metric_name, outcome_summary
from airflow_eks_data.outcomes.spark_operator import classify_spark_operator
from airflow_eks_data.outcomes.startup import StartupVerdict, check_pending
from airflow_eks_data.outcomes.submission import (
    SubmissionError,
    SubmissionRetrySettings,
    SubmissionVerdict,
    SubmitAction,
    submission_verdict,
)

__all__ = [
    "Action",
    "AttemptRecord",
    "Cancelled",
    "Classification",
    "Decision",
    "EmrEvidence",
    "Evidence",
    "KubeEvidence",
    "NotTerminalError",
    "OnDemandEscalation",
    "Outcome",
    "RetrySettings",
    "SparkOperatorEvidence",
    "StartupVerdict",
    "SubmissionError",
    "SubmissionRetrySettings",
    "SubmissionVerdict",
    "SubmitAction",
    "TimedOut",
    "backoff_delay",
    "check_pending",
    "classify",
    "classify_emr",
    "classify_spark_operator",
    "decide",
    "escalation_for",
    "evidence_from_dict",
    "metric_name",
    "outcome_summary",
    "submission_verdict",
]
