"""Reads the structured Kubernetes signals (pod conditions, exit codes, events, node facts) once.

Both classifiers ask the same questions of a driver pod: was it OOM-killed, did Kubernetes mark it
as disrupted, what did its container exit with, did anything announce the node's end, was the node
spot. Answering them here keeps the rules in `spark_operator.py` and `emr.py` short and aligned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_eks_data.outcomes.evidence import KubeEvidence

DRIVER_CONTAINER = "spark-kubernetes-driver"

# Pod condition DisruptionTarget reasons (k8s >= 1.26). All mean something outside the app removed it.
DISRUPTION_REASONS = frozenset(
    {
        "EvictionByEvictionAPI",  # Karpenter / NTH drain, kubectl drain
        "DeletionByTaintManager",  # NoExecute taint, e.g. node unreachable for 300 s
        "DeletionByPodGC",  # bound to a Node object that no longer exists (spot vanished)
        "TerminationByKubelet",  # graceful node shutdown, node-pressure eviction
        "PreemptionByScheduler",  # a higher-priority pod took the place
    }
)

# Event reasons that announce the end of a node or an infrastructure-driven pod removal.
# Karpenter interruption controller, Karpenter voluntary disruption, taint manager, node lifecycle
# controller, scheduler preemption. SpotRebalanceRecommendation is deliberately absent: no drain follows.
INTERRUPTION_EVENT_REASONS = frozenset(
    {
        "SpotInterrupted",
        "TerminatingOnInterruption",
        "InstanceTerminating",
        "InstanceStopping",
        "InstanceUnhealthy",
        "DisruptionTerminating",
        "TaintManagerEviction",
        "Preempted",
        "SparkExecutorPreempted",
    }
)
# A node health blip: it may recover (UNKNOWN that recovers), so it only explains a driver that vanished
# or was killed by a signal, never a driver that exited with its own error code.
WEAK_EVENT_REASONS = frozenset({"NodeNotReady"})
NODE_ONLY_EVENT_REASONS = frozenset({"Shutdown", "NodeShutdown", "RemovingNode", "DeletingNode"})

# Node taints that say the node is being taken away or is unreachable.
INTERRUPTION_TAINTS = frozenset(
    {
        "karpenter.sh/disrupted",
        "karpenter.sh/disruption",
        "aws-node-termination-handler/spot-itn",
        "aws-node-termination-handler/scheduled-maintenance",
        "aws-node-termination-handler/asg-lifecycle-termination",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/out-of-service",
    }
)

# Pod status.reason set by the kubelet on graceful node shutdown (and admission refusal during one).
NODE_SHUTDOWN_POD_REASONS = frozenset({"Terminated", "NodeShutdown", "NodeLost"})

# A kubelet eviction for the pod's *own* ephemeral-storage limit recurs on any node: the app's fault.
_SELF_EVICTION = re.compile(r"exceed(s|ed)? (the total limit|its local ephemeral storage limit)", re.I)

SPOT_LABELS = (
    "karpenter.sh/capacity-type",
    "eks.amazonaws.com/capacityType",
    "node.kubernetes.io/lifecycle",
)


@dataclass(frozen=True)
class Termination:
    """How the driver container ended, from `state.terminated` (or `lastState.terminated`)."""

    exit_code: int
    reason: str | None

    def describe(self) -> str:
        return f"exit code {self.exit_code}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class KubeSignals:
    """The answers, plus evidence lines in the order an on-call engineer would want them."""

    pod_name: str | None = None
    node_name: str | None = None
    phase: str | None = None
    termination: Termination | None = None
    disruption: str | None = None
    node_shutdown: str | None = None
    eviction: str | None = None
    self_eviction: bool = False
    infra_events: tuple[str, ...] = ()
    executor_infra_events: tuple[str, ...] = ()
    weak_events: tuple[str, ...] = ()
    taints: tuple[str, ...] = ()
    capacity_type: str | None = None
    lines: tuple[str, ...] = field(default=())

    @property
    def oom_killed(self) -> bool:
        return self.termination is not None and self.termination.reason == "OOMKilled"

    @property
    def on_spot(self) -> bool:
        return self.capacity_type == "spot"

    @property
    def where(self) -> str:
        """`on a spot node` / `on an on-demand node` / `on a node of unknown capacity type`."""
        if not self.capacity_type:
            return "on a node of unknown capacity type"
        article = "an" if self.capacity_type[0] in "aeiou" else "a"
        return f"on {article} {self.capacity_type} node"

    @property
    def infrastructure(self) -> str | None:
        """The strongest structured sign that infrastructure removed the driver, if any."""
        if self.disruption:
            return f"driver pod condition DisruptionTarget={self.disruption}"
        if self.node_shutdown:
            return f"driver pod {self.node_shutdown}"
        if self.eviction and not self.self_eviction:
            return f"driver pod evicted by the kubelet: {self.eviction}"
        if self.infra_events:
            return f"event {self.infra_events[0]}"
        if self.taints:
            return f"driver node tainted {self.taints[0]}"
        return None

    @property
    def weak_infrastructure(self) -> str | None:
        """A node-health sign that only explains a driver that vanished or died by a signal."""
        return f"event {self.weak_events[0]}" if self.weak_events else None


def _get(obj: Mapping[str, Any] | None, *path: str) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def termination_of(pod: Mapping[str, Any] | None) -> Termination | None:
    """The driver container's termination; prefers the Spark driver container over sidecars."""
    statuses = _get(pod, "status", "containerStatuses") or []
    if not isinstance(statuses, list) or not statuses:
        return None
    chosen = next((s for s in statuses if s.get("name") == DRIVER_CONTAINER), statuses[0])
    for key in ("state", "lastState"):
        term = _get(chosen, key, "terminated")
        if isinstance(term, Mapping) and term.get("exitCode") is not None:
            return Termination(int(term["exitCode"]), term.get("reason"))
    return None


def disruption_of(pod: Mapping[str, Any] | None) -> str | None:
    """The reason of a `DisruptionTarget=True` condition; a cleared (False) one does not count."""
    for cond in _get(pod, "status", "conditions") or []:
        if cond.get("type") == "DisruptionTarget" and str(cond.get("status")) == "True":
            reason = cond.get("reason")
            if reason in DISRUPTION_REASONS:
                return str(reason)
    return None


def capacity_type(labels: Mapping[str, str], pod: Mapping[str, Any] | None) -> str | None:
    """`spot` / `on-demand` from the node's labels, else from the pod's own nodeSelector."""
    selector = _get(pod, "spec", "nodeSelector") or {}
    for source in (labels, selector):
        for key in SPOT_LABELS:
            value = source.get(key)
            if value:
                low = str(value).lower().replace("_", "-")
                return "spot" if low == "spot" else "on-demand" if low in {"on-demand", "normal"} else low
    return None


def _event_fields(event: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(reason, kind, name, message) for core/v1 and events.k8s.io/v1 events alike."""
    obj = event.get("involvedObject") or event.get("regarding") or {}
    message = event.get("message") or event.get("note") or ""
    return str(event.get("reason") or ""), str(obj.get("kind") or ""), str(obj.get("name") or ""), message


def is_executor_pod(name: str, executor_names: Iterable[str] = ()) -> bool:
    """Executor pods are keys of `executorState`, or follow Spark's `<prefix>-exec-<id>` naming."""
    return name in set(executor_names) or bool(re.search(r"-exec-\d+$", name))


def _scan_events(
    events: Sequence[Mapping[str, Any]],
    pod_name: str | None,
    node_name: str | None,
    executor_names: Sequence[str],
) -> tuple[list[str], list[str], list[str], str | None]:
    """Split interruption events into driver/node ones and executor ones; pick up a kubelet eviction."""
    infra_events: list[str] = []
    executor_events: list[str] = []
    weak_events: list[str] = []
    eviction: str | None = None
    for event in events:
        reason, kind, name, message = _event_fields(event)
        if reason == "Evicted" and kind == "Pod" and (not pod_name or name == pod_name):
            eviction = eviction or message or "Evicted"
            continue
        node_scoped = kind in {"Node", "NodeClaim"}
        weak = reason in WEAK_EVENT_REASONS
        if (
            not weak
            and reason not in INTERRUPTION_EVENT_REASONS
            and not (node_scoped and reason in NODE_ONLY_EVENT_REASONS)
        ):
            continue
        label = f"{reason} on {kind or '?'} {name}".rstrip()
        if kind == "Pod" and pod_name and name != pod_name:
            if is_executor_pod(name, executor_names):
                executor_events.append(label)
            continue
        if kind == "Node" and node_name and name and name != node_name:
            continue
        (weak_events if weak else infra_events).append(label)
    return infra_events, executor_events, weak_events, eviction


def read_signals(ev: KubeEvidence, executor_names: Sequence[str] = ()) -> KubeSignals:
    """Extract every structured signal from the Kubernetes evidence of one attempt."""
    pod = ev.driver_pod
    pod_name = _get(pod, "metadata", "name")
    node_name = _get(pod, "spec", "nodeName")
    phase = _get(pod, "status", "phase")
    lines: list[str] = []

    term = termination_of(pod)
    disruption = disruption_of(pod)
    status_reason = _get(pod, "status", "reason")
    status_message = _get(pod, "status", "message") or ""
    node_shutdown = None
    eviction = None
    if status_reason in NODE_SHUTDOWN_POD_REASONS:
        node_shutdown = f"status.reason={status_reason}" + (f": {status_message}" if status_message else "")
    elif status_reason == "Evicted":
        eviction = status_message or "Evicted"

    infra_events, executor_events, weak_events, event_eviction = _scan_events(
        ev.events, pod_name, node_name, executor_names
    )
    eviction = eviction or event_eviction
    self_eviction = bool(eviction and _SELF_EVICTION.search(eviction))
    taints = tuple(f"{t.get('key')}:{t.get('effect')}" for t in ev.node_taints if t.get("key") in INTERRUPTION_TAINTS)
    capacity = capacity_type(ev.node_labels, pod)

    if pod_name:
        where = f" on node {node_name}" if node_name else ""
        lines.append(f"driver pod {pod_name} phase={phase or '?'}{where}")
    if capacity:
        lines.append(f"driver node capacity-type={capacity}")
    if term:
        lines.append(f"driver container terminated: {term.describe()}")
    if disruption:
        lines.append(f"condition DisruptionTarget=True reason={disruption}")
    if node_shutdown:
        lines.append(f"pod {node_shutdown}")
    if eviction:
        lines.append(f"pod evicted: {eviction}")
    lines.extend(f"event {e}" for e in [*infra_events, *weak_events][:3])
    if executor_events:
        lines.append(f"{len(executor_events)} interruption event(s) on executor pods, e.g. {executor_events[0]}")
    lines.extend(f"node taint {t}" for t in taints[:2])

    return KubeSignals(
        pod_name=pod_name,
        node_name=node_name,
        phase=phase,
        termination=term,
        disruption=disruption,
        node_shutdown=node_shutdown,
        eviction=eviction,
        self_eviction=self_eviction,
        infra_events=tuple(infra_events),
        executor_infra_events=tuple(executor_events),
        weak_events=tuple(weak_events),
        taints=taints,
        capacity_type=capacity,
        lines=tuple(lines),
    )
