"""Is a driver that has not started yet failing, or just waiting for Karpenter to bring a node?

Pending capacity (`FailedScheduling` while Karpenter provisions, an InsufficientCapacity retry) is
not a failure until `startup_timeout`; a pod that can never start (bad image name, missing secret)
fails now, and a pod whose image cannot be pulled gets until `startup_timeout` (registries throttle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_eks_data.outcomes.classify import classify
from airflow_eks_data.outcomes.evidence import TimedOut
from airflow_eks_data.outcomes.model import Classification, FrozenModel, Outcome

FATAL_WAITING_REASONS = frozenset({"InvalidImageName", "CreateContainerConfigError", "ErrImageNeverPull"})
IMAGE_WAITING_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff"})
CAPACITY_EVENT_REASONS = frozenset({"FailedScheduling", "Nominated", "NotTriggerScaleUp"})


class StartupVerdict(FrozenModel):
    """`keep_waiting` with a reason to log, or a final classification."""

    keep_waiting: bool
    reason: str
    classification: Classification | None = None


def _waiting_reasons(pod: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or []
    out = []
    for status in statuses:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            out.append((str(waiting["reason"]), str(waiting.get("message") or "")))
    return out


def _unschedulable(pod: Mapping[str, Any] | None, events: Sequence[Mapping[str, Any]]) -> str | None:
    for cond in ((pod or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"PodScheduled=False {cond.get('reason') or ''}: {cond.get('message') or ''}".strip()
    for event in reversed(events):
        if event.get("reason") in CAPACITY_EVENT_REASONS:
            return f"{event.get('reason')}: {event.get('message') or event.get('note') or ''}".strip()
    return None


def check_pending(
    driver_pod: Mapping[str, Any] | None,
    events: Sequence[Mapping[str, Any]],
    waited_seconds: float,
    startup_timeout_seconds: float,
) -> StartupVerdict:
    """Decide, while the driver is not running yet, whether to keep waiting."""
    expired = waited_seconds >= startup_timeout_seconds
    for reason, message in _waiting_reasons(driver_pod):
        if reason in FATAL_WAITING_REASONS or (reason in IMAGE_WAITING_REASONS and expired):
            detail = f"driver container waiting: {reason}" + (f": {message}" if message else "")
            return StartupVerdict(
                keep_waiting=False,
                reason=detail,
                classification=Classification(
                    outcome=Outcome.FAILED, reason=f"driver cannot start ({reason})", evidence=(detail,)
                ),
            )
        if reason in IMAGE_WAITING_REASONS:
            return StartupVerdict(keep_waiting=True, reason=f"image not pulled yet ({reason})")
    pending = _unschedulable(driver_pod, events)
    detail = pending or ("driver pod not created yet" if driver_pod is None else "driver pod pending")
    if not expired:
        return StartupVerdict(keep_waiting=True, reason=f"waiting for capacity: {detail}")
    phase = ((driver_pod or {}).get("status") or {}).get("phase")
    timed_out = classify(
        TimedOut(stage="startup", timeout_seconds=startup_timeout_seconds, last_state=phase, detail=detail)
    )
    return StartupVerdict(keep_waiting=False, reason=detail, classification=timed_out)
