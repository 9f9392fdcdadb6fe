"""Is a driver that has not started yet failing, or just waiting for Karpenter to bring a node?

Pending capacity (`FailedScheduling` while Karpenter provisions, an InsufficientCapacity retry) is
not a failure until `startup_timeout`; a pod that can never start (bad image name, missing secret)
fails now, and a pod whose image cannot be pulled gets until `startup_timeout` (registries throttle).

Pods still unscheduled after `pending_explain_after` are explained (`explain_pending`): no node, a
quota, a batch-scheduler queue, with the one line a person needs, long before the timeout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from airflow_eks_data.outcomes.classify import classify
from airflow_eks_data.outcomes.evidence import TimedOut
from airflow_eks_data.outcomes.model import Classification, FrozenModel, Outcome, short

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
    explained: str | None = None,
) -> StartupVerdict:
    """Decide, while the driver is not running yet, whether to keep waiting.

    `explained`: the pending explanation's line, if one was made, as the timeout's detail."""
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
        TimedOut(stage="startup", timeout_seconds=startup_timeout_seconds, last_state=phase, detail=explained or detail)
    )
    return StartupVerdict(keep_waiting=False, reason=detail, classification=timed_out)


# ---- pending explained -------------------------------------------------------------------------
#
# Past `pending_explain_after`, pods that are still not scheduled get one line saying why, read from
# the pod's `PodScheduled` condition, the events on the pod and on the SparkApplication, and the
# application's own error message. The signatures below are ordered: the first that matches names
# the cause (a quota refusal explains a missing pod better than the scheduler's generic complaint).


class PendingCause(str, Enum):
    """Why pods stay unscheduled: the `cause` tag of the metric."""

    NO_NODE = "no_node"
    """No node fits and none is coming (no NodePool matches, NodePool limits, no EC2 capacity)."""
    QUOTA = "quota"
    """A ResourceQuota refuses the pods."""
    QUEUE = "queue"
    """A batch scheduler's queue (YuniKorn, Volcano) does not admit the application yet."""
    UNKNOWN = "unknown"


PendingRole = Literal["driver", "executors"]


class PendingExplanation(FrozenModel):
    """Why the pods of one role are not scheduled: the task-log line, and whether waiting can help."""

    role: PendingRole
    pod: str | None = None
    cause: PendingCause
    what: str
    hint: str
    retryable: bool
    """False when waiting will not help (no NodePool matches, a quota the pods cannot satisfy)."""
    waited_seconds: float
    pending: int = 1
    total: int | None = None

    @property
    def line(self) -> str:
        """One line, e.g. `driver pod x-driver pending 2m10s: no Karpenter NodePool matches (...): check ...`."""
        waited = duration(self.waited_seconds)
        if self.role == "executors":
            count = f"{self.pending} of {self.total}" if self.total else str(self.pending)
            example = f", e.g. {self.pod}" if self.pod else ""
            who = f"executors pending {waited} ({count}{example})"
        elif self.pod:
            who = f"driver pod {self.pod} pending {waited}"
        else:
            who = f"driver pod not created after {waited}"
        return f"{who}: {self.what}: {self.hint}"


@dataclass(frozen=True)
class _Signal:
    source: str
    reason: str
    text: str


@dataclass(frozen=True)
class _Finding:
    cause: PendingCause
    what: str
    hint: str
    retryable: bool


PLACEMENT_HINT = "check placement / NodePool"
_QUOTA = re.compile(r"\b(exceeded|failed) quota: ([^,:\s]+)[,:]?\s*(.*)", re.I)
_QUEUE_NAME = re.compile(r"queue[\s:]+(?:'([^']+)'|\"([^\"]+)\"|(root(?:\.[\w\-]+)+))", re.I)
_QUEUE_FULL = re.compile(
    r"does not fit in (?:the )?queue|queue\b.{0,80}\b(?:is full|full|exceed\w*|max(?:imum)?[ _-]?(?:running[ _-]?)?"
    r"app\w*|limit\w* reached)|queue resource quota insufficient|maxApplications",
    re.I,
)
_QUEUE_WAITING = re.compile(r"queued and waiting for allocation|waiting for (?:resources|allocation)", re.I)
_KARPENTER_NO_MATCH = re.compile(
    r"incompatible with nodepool|no nodepools? (?:found|matched)|did not tolerate|incompatible requirements|"
    r"no instance type (?:satisfied|met|has enough)",
    re.I,
)
_KARPENTER_LIMITS = re.compile(r"exceed(?:s|ed)? limits for nodepool|nodepool.{0,40}limits? (?:exceeded|reached)", re.I)
_NO_CAPACITY = re.compile(r"insufficient ?(?:instance ?)?capacity|InsufficientInstanceCapacity|no capacity", re.I)
_OVERHEAD = re.compile(r",?\s*daemonset overhead=\{[^}]*\}")
_NODEPOOL = re.compile(r"nodepool[:\s]+\"?([\w.\-]+)\"?", re.I)
_NODECLAIM = re.compile(r"nodeclaim/([\w.\-]+)", re.I)
_SCHEDULERS = {"yunikorn": "YuniKorn", "volcano": "Volcano"}
_REQUIREMENT_NAMES = {
    "kubernetes.io/arch": "arch",
    "karpenter.sh/capacity-type": "capacity",
    "karpenter.k8s.aws/instance-family": "family",
    "node.kubernetes.io/instance-type": "instance-type",
    "topology.kubernetes.io/zone": "zone",
    "karpenter.sh/nodepool": "nodepool",
    "karpenter.k8s.aws/instance-local-nvme": "local-nvme-gb",
}


def duration(seconds: float) -> str:
    """`45s`, `2m10s`, `1h05m`: how long something has waited, for people."""
    total = max(int(seconds), 0)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m{total % 60:02d}s"
    return f"{total // 3600}h{total % 3600 // 60:02d}m"


def requirements(pod: Mapping[str, Any] | None) -> str:
    """The node requirements a pod states (nodeSelector, required node affinity), in short names."""
    spec = (pod or {}).get("spec") or {}
    found: dict[str, str] = {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        found[str(key)] = f"={value}"
    node_affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in (node_affinity.get("nodeSelectorTerms") or [])[:1]:
        for expr in term.get("matchExpressions") or []:
            op, values = expr.get("operator"), [str(v) for v in expr.get("values") or []]
            text = {"In": "=" + "|".join(values), "NotIn": "!=" + "|".join(values), "Exists": "", "Gt": ">", "Lt": "<"}
            if op in ("Gt", "Lt"):
                found[str(expr.get("key"))] = text[op] + (values[0] if values else "")
            elif op in text:
                found[str(expr.get("key"))] = text[op]
    known = [k for k in _REQUIREMENT_NAMES if k in found]
    others = sorted(k for k in found if k not in _REQUIREMENT_NAMES and not k.startswith("airflow-eks-data/"))
    parts = [f"{_REQUIREMENT_NAMES.get(k, k)}{found[k]}" for k in [*known, *others][:6]]
    return ", ".join(parts)


def _signals(
    pod: Mapping[str, Any] | None, events: Sequence[Mapping[str, Any]], application: Mapping[str, Any] | None
) -> list[_Signal]:
    """Every text that may say why: the PodScheduled condition, events (core/v1 and events.k8s.io/v1),
    and the application's error message (spark-submit's refusal)."""
    out: list[_Signal] = []
    for cond in ((pod or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            out.append(_Signal("PodScheduled", str(cond.get("reason") or ""), str(cond.get("message") or "")))
    for event in events:
        source = (
            (event.get("source") or {}).get("component")
            or event.get("reportingController")
            or event.get("reportingComponent")
            or ""
        )
        text = str(event.get("message") or event.get("note") or "")
        out.append(_Signal(str(source), str(event.get("reason") or ""), text))
    error = (((application or {}).get("status") or {}).get("applicationState") or {}).get("errorMessage")
    if error:
        out.append(_Signal("spark-operator", "errorMessage", str(error)))
    return out


def _excerpt(text: str, limit: int = 120) -> str:
    return short(text, limit)


def _quota(signals: Sequence[_Signal]) -> _Finding | None:
    for signal in reversed(signals):
        match = _QUOTA.search(signal.text)
        if not match:
            continue
        kind, name, rest = match.group(1).lower(), match.group(2), match.group(3).rstrip(" .")
        if kind == "failed":  # the pods state no limits a quota requires: waiting will not help
            return _Finding(
                PendingCause.QUOTA,
                f"ResourceQuota {name} refuses the pods ({_excerpt(rest, 100) or 'missing requests or limits'})",
                "set the requests and limits the quota requires",
                False,
            )
        detail = f" ({_excerpt(rest, 140)})" if rest else ""
        return _Finding(
            PendingCause.QUOTA,
            f"ResourceQuota {name} exceeded{detail}",
            "wait for the namespace's other jobs, or raise the quota or shrink the job",
            True,
        )
    return None


def _scheduler_of(signal: _Signal) -> str | None:
    source = signal.source.lower()
    for key, name in _SCHEDULERS.items():
        if key in source:
            return name
    return None


def _queue(signals: Sequence[_Signal], *, strong: bool) -> _Finding | None:
    pattern = _QUEUE_FULL if strong else _QUEUE_WAITING
    for signal in reversed(signals):
        scheduler = _scheduler_of(signal)
        if not pattern.search(signal.text) or (not strong and scheduler is None):
            continue
        name = _QUEUE_NAME.search(signal.text)
        queue = f"queue {next(g for g in name.groups() if g)}" if name else "queue"
        who = f"{scheduler or 'batch scheduler'} {queue}"
        what = f"{who} does not admit it yet" if strong else f"{who}: waiting for allocation"
        return _Finding(
            PendingCause.QUEUE,
            f"{what} ({_excerpt(signal.text, 110)})",
            "check the queue's limits (batch_scheduler.queue) or wait for its other applications",
            True,
        )
    return None


def _karpenter(signals: Sequence[_Signal], wants: str) -> _Finding | None:
    for signal in reversed(signals):
        text = signal.text
        if _KARPENTER_NO_MATCH.search(text) and ("karpenter" in signal.source.lower() or "nodepool" in text.lower()):
            said = _excerpt(_OVERHEAD.sub("", text.removeprefix("Failed to schedule pod, ")), 180)
            return _Finding(
                PendingCause.NO_NODE,
                f"no Karpenter NodePool matches (requirements {wants or 'none stated'}; Karpenter: {said})",
                PLACEMENT_HINT,
                False,
            )
    for signal in reversed(signals):
        if _KARPENTER_LIMITS.search(signal.text):
            pool = _NODEPOOL.search(signal.text)
            which = f" {pool.group(1)}" if pool else ""
            return _Finding(
                PendingCause.NO_NODE,
                f"Karpenter NodePool{which} is at its limits ({wants or 'no stated requirements'})",
                "raise the NodePool's limits, or wait for its nodes to free up",
                True,
            )
        if _NO_CAPACITY.search(signal.text) and signal.source != "PodScheduled":
            return _Finding(
                PendingCause.NO_NODE,
                f"no EC2 capacity for the requirements ({wants or 'none stated'}): {_excerpt(signal.text, 90)}",
                "allow more instance families or zones, or wait",
                True,
            )
    return None


def _scheduler(signals: Sequence[_Signal], wants: str) -> _Finding | None:
    for signal in reversed(signals):
        if signal.reason == "NotTriggerScaleUp":  # cluster-autoscaler: no node group could take the pod
            return _Finding(
                PendingCause.NO_NODE,
                f"no node group fits ({wants or 'no stated requirements'}): {_excerpt(signal.text, 110)}",
                PLACEMENT_HINT,
                False,
            )
    generic = next((s for s in reversed(signals) if s.reason in ("FailedScheduling", "Unschedulable") and s.text), None)
    if generic is None:
        return None
    claim = next((m for s in reversed(signals) if (m := _NODECLAIM.search(s.text))), None)
    if claim is not None:
        return _Finding(
            PendingCause.NO_NODE,
            f"no node fits yet and Karpenter's nodeclaim/{claim.group(1)} is not ready ({_excerpt(generic.text, 90)})",
            "check that NodeClaim's events if this lasts",
            True,
        )
    return _Finding(
        PendingCause.NO_NODE,
        f"no node fits and no autoscaler reacted (requirements {wants or 'none stated'}; {_excerpt(generic.text, 90)})",
        PLACEMENT_HINT,
        True,
    )


def _scheduled(pod: Mapping[str, Any] | None) -> bool:
    if not pod:
        return False
    if (pod.get("spec") or {}).get("nodeName"):
        return True
    status = pod.get("status") or {}
    if status.get("phase") not in (None, "", "Pending"):
        return True
    return any(c.get("type") == "PodScheduled" and c.get("status") == "True" for c in status.get("conditions") or [])


def explain_pending(
    role: PendingRole,
    pod: Mapping[str, Any] | None,
    events: Sequence[Mapping[str, Any]],
    waited_seconds: float,
    *,
    application: Mapping[str, Any] | None = None,
    pending: int = 1,
    total: int | None = None,
) -> PendingExplanation | None:
    """Why `pod` (None: not created) of `role` is not scheduled after `waited_seconds`; None once it is.

    `events` are those on the pod and (driver) on the SparkApplication; `application` lends its
    `errorMessage` (a refused driver pod surfaces there). `pending` of `total` pods wait (executors).
    """
    if _scheduled(pod):
        return None
    signals = _signals(pod, events, application)
    wants = requirements(pod)
    found = (
        _quota(signals)
        or _queue(signals, strong=True)
        or _karpenter(signals, wants)
        or _scheduler(signals, wants)
        or _queue(signals, strong=False)
    )
    if found is None:
        condition = next((s for s in signals if s.source == "PodScheduled"), None)
        if condition is not None:
            what = f"not scheduled, cause not recognised (PodScheduled=False {condition.reason}: "
            what += f"{_excerpt(condition.text, 100)})"
        elif pod is None:
            what = "no pod, and no event says why"
        else:
            what = "not scheduled, and no event says why"
        hint = (
            "check the Spark Operator and the SparkApplication's events"
            if pod is None
            else "check the pod's events (kubectl describe pod)"
        )
        found = _Finding(PendingCause.UNKNOWN, what, hint, True)
    name = ((pod or {}).get("metadata") or {}).get("name")
    return PendingExplanation(
        role=role,
        pod=str(name) if name else None,
        cause=found.cause,
        what=found.what,
        hint=found.hint,
        retryable=found.retryable,
        waited_seconds=waited_seconds,
        pending=pending,
        total=total,
    )


def unschedulable_classification(explanation: PendingExplanation, explain_after: float) -> Classification:
    """The verdict when a profile fails fast on unschedulable pods: `failed` (not retried) when waiting
    cannot help, else `timed_out` (Airflow retries apply), at the threshold rather than the timeout."""
    role = "driver" if explanation.role == "driver" else "executors"
    evidence = (
        explanation.line,
        f"cause: {explanation.cause.value} ({'may clear by itself' if explanation.retryable else 'will not clear'})",
        f"fail_fast_on_unschedulable: gave up after pending_explain_after={explain_after:g}s",
    )
    if explanation.retryable:
        return Classification(
            outcome=Outcome.TIMED_OUT,
            reason=f"{role} unschedulable ({explanation.cause.value}), gave up early: {explanation.what}",
            evidence=evidence,
        )
    return Classification(
        outcome=Outcome.FAILED,
        reason=f"{role} cannot be scheduled ({explanation.cause.value}): {explanation.what}",
        evidence=evidence,
    )
