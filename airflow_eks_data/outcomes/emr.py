"""Classify a finished EMR on EKS job run from DescribeJobRun's `jobRun` (plus optional pod evidence).

`failureReason` is the structured field and is read first: VALIDATION_ERROR is the request's fault,
INTERNAL_ERROR and CLUSTER_UNAVAILABLE are the service's or cluster's. USER_ERROR covers any non-zero
driver exit, *including* a driver killed with its spot node, because EMR has no value for spot loss.
So a USER_ERROR is re-read with the Kubernetes evidence when the backend could collect it, and only
then with `stateDetails` wording (unverified against the live service; see the reference notes F.1).
"""

from __future__ import annotations

import re
from typing import Any

from airflow_eks_data.outcomes.evidence import EmrEvidence
from airflow_eks_data.outcomes.kube import read_signals
from airflow_eks_data.outcomes.model import Classification, Outcome
from airflow_eks_data.outcomes.states import EMR_JOB_RUN, settled_verdict

SIGNAL_EXITS = frozenset({137, 143})
INFRA_FAILURE_REASONS = frozenset({"INTERNAL_ERROR", "CLUSTER_UNAVAILABLE"})
APP_FAILURE_REASONS = frozenset({"USER_ERROR", "VALIDATION_ERROR"})

# Last-resort wording matches on stateDetails, used only when no structured signal decided.
_OOM_TEXT = re.compile(r"OOMKilled|OutOfMemory|out of memory|exit code:? 137\b.*memory", re.I)
_INFRA_TEXT = re.compile(
    r"\bevict|spot|preempt|DisruptionTarget|node\b.{0,40}\b(terminat|lost|shut ?down|not ?ready|unreachable|"
    r"reclaim|interrupt)",
    re.I,
)


def _retry_lines(job_run: dict[str, Any]) -> list[str]:
    used = (job_run.get("retryPolicyExecution") or {}).get("currentAttemptCount")
    limit = (job_run.get("retryPolicyConfiguration") or {}).get("maxAttempts")
    if used is None:
        return []
    return [f"EMR driver attempts used: {used}" + (f" of {limit}" if limit is not None else "")]


def classify_emr(ev: EmrEvidence) -> Classification:
    """Outcome of an EMR on EKS job run; raises NotTerminalError for PENDING…CANCEL_PENDING."""
    run = ev.job_run
    state = str(run.get("state") or "")
    reason_code = run.get("failureReason")
    details = str(run.get("stateDetails") or "")
    facts = [f"jobRun {run.get('id', '?')} state={state}"]
    if reason_code:
        facts.append(f"failureReason={reason_code}")
    if details:
        facts.append(f"stateDetails: {details}")
    facts += _retry_lines(run)

    def verdict(outcome: Outcome, reason: str, extra: tuple[str, ...] = ()) -> Classification:
        return Classification(outcome=outcome, reason=reason, evidence=(*facts, *extra))

    settled = settled_verdict(state, EMR_JOB_RUN, "EMR", verdict, details)
    if settled:
        return settled

    if reason_code == "VALIDATION_ERROR":
        return verdict(Outcome.FAILED, f"EMR rejected the job (VALIDATION_ERROR){': ' + details if details else ''}")
    if reason_code in INFRA_FAILURE_REASONS:
        return verdict(Outcome.INTERRUPTED, f"EMR reported {reason_code}: not the application's fault")

    sig = read_signals(ev)
    kube = sig.lines
    if sig.oom_killed:
        return verdict(Outcome.FAILED, "driver was OOMKilled (exit 137): out of memory, not infrastructure", kube)
    if sig.self_eviction:
        return verdict(Outcome.FAILED, f"driver evicted for exceeding its own limits: {sig.eviction}", kube)
    infra = sig.infrastructure
    if infra:
        return verdict(Outcome.INTERRUPTED, f"infrastructure removed the driver: {infra}", kube)
    exit_code = sig.termination.exit_code if sig.termination else None
    if exit_code in {137, 143} and sig.on_spot:
        return verdict(Outcome.INTERRUPTED, f"driver killed by a signal (exit {exit_code}) on a spot node", kube)
    if _OOM_TEXT.search(details):
        return verdict(Outcome.FAILED, "stateDetails reports the driver ran out of memory", kube)
    if reason_code in {None, "USER_ERROR"} and _INFRA_TEXT.search(details):
        return verdict(Outcome.INTERRUPTED, "stateDetails wording points at node loss or eviction", kube)
    label = reason_code or "no failureReason"
    return verdict(Outcome.FAILED, f"job run FAILED ({label}){': ' + details if details else ''}", kube)
