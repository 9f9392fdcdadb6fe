"""Outcome classification and the interruption-aware retry policy, as pure functions over API dicts.

Backends collect evidence (`SparkOperatorEvidence`, `EmrEvidence`, `EmrServerlessEvidence`, `TimedOut`,
`Cancelled`), call `classify()`, then `decide()`, and record an `AttemptRecord`. Nothing here does I/O
or imports Airflow.
"""

from airflow_eks_data.outcomes.classify import classify
from airflow_eks_data.outcomes.emr import classify_emr
from airflow_eks_data.outcomes.emr_serverless import classify_emr_serverless
from airflow_eks_data.outcomes.evidence import (
    Cancelled,
    EmrEvidence,
    EmrServerlessEvidence,
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
from airflow_eks_data.outcomes.retrying import ApiError, Backoff, api_error, backoff_delay, is_transient
from airflow_eks_data.outcomes.spark_operator import classify_spark_operator
from airflow_eks_data.outcomes.startup import (
    PendingCause,
    PendingExplanation,
    StartupVerdict,
    check_pending,
    explain_pending,
    unschedulable_classification,
)
from airflow_eks_data.outcomes.states import (
    ANY_FINISHED,
    EMR_JOB_RUN,
    EMR_SERVERLESS_JOB_RUN,
    SPARK_APPLICATION,
    StateTable,
)
from airflow_eks_data.outcomes.submission import SubmissionVerdict, SubmitAction, submission_verdict

__all__ = [
    "ANY_FINISHED",
    "EMR_JOB_RUN",
    "EMR_SERVERLESS_JOB_RUN",
    "SPARK_APPLICATION",
    "Action",
    "ApiError",
    "AttemptRecord",
    "Backoff",
    "Cancelled",
    "Classification",
    "Decision",
    "EmrEvidence",
    "EmrServerlessEvidence",
    "Evidence",
    "KubeEvidence",
    "NotTerminalError",
    "OnDemandEscalation",
    "Outcome",
    "PendingCause",
    "PendingExplanation",
    "RetrySettings",
    "SparkOperatorEvidence",
    "StartupVerdict",
    "StateTable",
    "SubmissionVerdict",
    "SubmitAction",
    "TimedOut",
    "api_error",
    "backoff_delay",
    "check_pending",
    "classify",
    "classify_emr",
    "classify_emr_serverless",
    "classify_spark_operator",
    "decide",
    "escalation_for",
    "evidence_from_dict",
    "explain_pending",
    "is_transient",
    "metric_name",
    "outcome_summary",
    "submission_verdict",
    "unschedulable_classification",
]
