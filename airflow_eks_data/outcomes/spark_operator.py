"""Classify a finished SparkApplication wait (Spark Operator backend).

Only COMPLETED and FAILED are terminal. A FAILED run is the application's fault unless there is
positive evidence that infrastructure removed the driver (DisruptionTarget, node shutdown, a
kubelet eviction not caused by the pod's own limits, interruption events or taints), or the driver
was killed by a signal / vanished while on spot capacity. OOMKilled always stays the app's fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_eks_data.outcomes.evidence import SparkOperatorEvidence
from airflow_eks_data.outcomes.kube import KubeSignals, read_signals
from airflow_eks_data.outcomes.model import Classification, NotTerminalError, Outcome
from airflow_eks_data.outcomes.states import SPARK_APPLICATION
from airflow_eks_data.outcomes.states import application_state as state_of

# The operator's own message when it saw the terminated driver container (controller.go).
_CONTAINER_FAILED = re.compile(r"ExitCode:\s*(-?\d+),\s*Reason:\s*([A-Za-z]+)")
_NOT_FOUND = "driver pod not found"
_STATUS_MISSING = "driver container status missing"
SIGNAL_EXITS = frozenset({137, 143})


def _error_of(snapshot: Mapping[str, Any]) -> str:
    return str((snapshot.get("applicationState") or {}).get("errorMessage") or "")


def _last_attempt(snapshots: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """Snapshots after the operator's last rerun: the earlier ones describe attempts it replaced."""
    for index in range(len(snapshots) - 1, -1, -1):
        if state_of(snapshots[index]) == "PENDING_RERUN":
            return snapshots[index + 1 :]
    return snapshots


def _executor_names(snapshots: Sequence[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for snap in snapshots:
        names.extend(k for k in (snap.get("executorState") or {}) if k not in names)
    return names


def _history_lines(snapshots: Sequence[Mapping[str, Any]]) -> list[str]:
    """What happened along the way that did not decide the outcome but explains it."""
    states = [state_of(s) for s in snapshots]
    lines = []
    compact = [s for i, s in enumerate(states) if s and (i == 0 or s != states[i - 1])]
    if compact:
        lines.append("states: " + " > ".join(compact[-8:]))
    reruns = compact.count("PENDING_RERUN")
    if reruns:
        causes = [_error_of(s) for s in snapshots if state_of(s) == "FAILING" and _error_of(s)]
        detail = f" (earlier failure: {causes[0]})" if causes else ""
        lines.append(f"operator restarted the driver {reruns} time(s) under its restartPolicy{detail}")
    if "UNKNOWN" in compact[:-1]:
        lines.append("state was UNKNOWN for a while (driver node unreachable) and recovered")
    lost: set[str] = set()
    for snap in snapshots:
        lost.update(k for k, v in (snap.get("executorState") or {}).items() if v in {"FAILED", "UNKNOWN"})
    if lost:
        lines.append(f"{len(lost)} executor(s) lost during the run (FAILED/UNKNOWN in executorState)")
    return lines


def _result(outcome: Outcome, reason: str, *groups: Sequence[str]) -> Classification:
    return Classification(outcome=outcome, reason=reason, evidence=tuple(x for g in groups for x in g))


def classify_spark_operator(ev: SparkOperatorEvidence) -> Classification:
    """Outcome of a SparkApplication wait; raises NotTerminalError while the app can still change."""
    snapshots = ev.snapshots
    final = state_of(snapshots[-1]) if snapshots else ""
    history = _history_lines(snapshots)
    if final not in SPARK_APPLICATION.terminal:
        if ev.app_deleted:
            return _result(Outcome.CANCELLED, f"SparkApplication was deleted while {final or 'NEW'}", history)
        raise NotTerminalError(f"SparkApplication state {final or 'NEW'!r} is not terminal")

    signals = read_signals(ev, _executor_names(snapshots))
    if final == "COMPLETED":
        extra = list(signals.executor_infra_events[:1])
        return _result(Outcome.SUCCEEDED, "SparkApplication COMPLETED", history, extra)
    return _classify_failed(_last_attempt(snapshots), signals, history)


def _classify_failed(attempt: Sequence[Mapping[str, Any]], sig: KubeSignals, history: list[str]) -> Classification:
    states = [state_of(s) for s in attempt]
    errors = [_error_of(s) for s in attempt if _error_of(s)]
    error = errors[-1] if errors else ""
    facts = [f"errorMessage: {error}"] if error else []
    facts += list(sig.lines)

    def verdict(outcome: Outcome, reason: str) -> Classification:
        return _result(outcome, reason, facts, history)

    if "SUBMISSION_FAILED" in states and "RUNNING" not in states and "SUBMITTED" not in states:
        return verdict(Outcome.FAILED, f"spark-submit failed: {error or 'no message'}")

    match = _CONTAINER_FAILED.search(error)
    exit_code = sig.termination.exit_code if sig.termination else int(match.group(1)) if match else None
    exit_reason = sig.termination.reason if sig.termination else match.group(2) if match else None

    if exit_reason == "OOMKilled":
        return verdict(Outcome.FAILED, "driver was OOMKilled (exit 137): out of memory, not infrastructure")
    vanished = _NOT_FOUND in error or _STATUS_MISSING in error
    if vanished and exit_code == 0:
        return verdict(
            Outcome.SUCCEEDED,
            "driver exited 0 before the operator lost track of its pod (kubeflow/spark-operator#2755)",
        )
    if sig.self_eviction:
        return verdict(Outcome.FAILED, f"driver evicted for exceeding its own limits: {sig.eviction}")
    infra = sig.infrastructure
    if not infra and (vanished or exit_code is None or exit_code in SIGNAL_EXITS):
        infra = sig.weak_infrastructure
    if infra:
        return verdict(Outcome.INTERRUPTED, f"infrastructure removed the driver: {infra}")
    where = sig.where
    if vanished:
        if sig.on_spot:
            return verdict(Outcome.INTERRUPTED, f"driver pod vanished ({error}) {where}")
        return verdict(Outcome.FAILED, f"driver pod vanished ({error}) {where} with no disruption evidence")
    if exit_code in SIGNAL_EXITS:
        signal = "SIGTERM" if exit_code == 143 else "SIGKILL"
        if sig.on_spot:
            return verdict(Outcome.INTERRUPTED, f"driver killed by {signal} (exit {exit_code}) {where}")
        return verdict(
            Outcome.FAILED,
            f"driver killed by {signal} (exit {exit_code}) {where} with no disruption evidence",
        )
    if sig.executor_infra_events:
        return verdict(
            Outcome.INTERRUPTED,
            f"driver failed (exit {exit_code if exit_code is not None else '?'}) after "
            f"{len(sig.executor_infra_events)} executor(s) were lost to interruptions",
        )
    if exit_code is not None:
        return verdict(Outcome.FAILED, f"driver exited with code {exit_code}" + (f": {error}" if error else ""))
    return verdict(Outcome.FAILED, f"SparkApplication FAILED: {error or 'no errorMessage captured'}")
