"""How long one attempt held capacity, and how much, read from the evidence its wait returned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from airflow_eks_data.outcomes.kube import capacity_type
from airflow_eks_data.targets import Target

FAMILY_LABEL = "karpenter.k8s.aws/instance-family"


@dataclass(frozen=True)
class Usage:
    """One attempt. Times in seconds; None when the backend did not say."""

    queued_s: float | None
    """Submission to the driver pod starting (pending capacity, image pull)."""
    running_s: float | None
    """Driver start (else submission) to the end of the attempt: what the pods were billed for."""
    executors: int | None
    """Executors the application created (Spark Operator `status.executorState`), None if unknown."""
    driver_capacity: str | None
    driver_family: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def event_usage(event: Mapping[str, Any]) -> Usage:
    """What a trigger event says about usage: its own `usage` figures, else read from its evidence."""
    if "usage" in event:
        return Usage(**{field.name: None for field in fields(Usage)} | dict(event["usage"]))
    return usage_of(event.get("evidence") or {})


def usage_of(evidence: Mapping[str, Any]) -> Usage:
    """Usage from an event's evidence dict (`SparkOperatorEvidence` or `EmrEvidence`); empty for others."""
    labels: Mapping[str, str] = evidence.get("node_labels") or {}
    pod = evidence.get("driver_pod")
    capacity, family = capacity_type(labels, pod), labels.get(FAMILY_LABEL)
    if evidence.get("kind") == Target.EMR_ON_EKS:
        run = evidence.get("job_run") or {}
        return Usage(None, _between(run.get("createdAt"), run.get("finishedAt")), None, capacity, family)
    snapshots = evidence.get("snapshots") or ()
    if not snapshots:
        return Usage(None, None, None, capacity, family)
    last = snapshots[-1]
    submitted, ended = last.get("lastSubmissionAttemptTime"), last.get("terminationTime")
    started = ((pod or {}).get("status") or {}).get("startTime")
    executors = len(last.get("executorState") or {}) or None
    if started:
        return Usage(_between(submitted, started), _between(started, ended), executors, capacity, family)
    return Usage(None, _between(submitted, ended), executors, capacity, family)


def _between(start: Any, end: Any) -> float | None:
    first, last = _instant(start), _instant(end)
    if first is None or last is None:
        return None
    return max((last - first).total_seconds(), 0.0)


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
