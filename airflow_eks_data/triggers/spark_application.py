"""Wait for a SparkApplication to end, deferrably, on the namespace's shared watch.

The event it fires carries everything the operator needs to classify the run (status snapshots,
the driver pod, events, the node), plus the operator's own attempt state, echoed back: the event,
not the deferral kwargs, is the one channel that survives both a triggerer restart and `dags test`.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_eks_data.observability.usage import FAMILY_LABEL
from airflow_eks_data.outcomes import Cancelled, SparkOperatorEvidence, TimedOut, check_pending
from airflow_eks_data.outcomes.kube import SPOT_LABELS
from airflow_eks_data.outcomes.states import SPARK_APPLICATION
from airflow_eks_data.triggers.application_watch import REGISTRY, ApplicationWatch, Inbox, Update, slim_status
from airflow_eks_data.triggers.events import app_state
from airflow_eks_data.triggers.pending import NOT_STARTED, PendingExplainer

if TYPE_CHECKING:
    from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook

# States in which the driver pod and its node are read, while they still exist.
LOOK_AT_DRIVER = frozenset({"RUNNING", "UNKNOWN", "FAILING"})
NODE_LABELS = (*SPOT_LABELS, FAMILY_LABEL, "node.kubernetes.io/instance-type", "topology.kubernetes.io/zone")
"""Node labels kept while waiting: the classifier reads the capacity type, the cost estimate the
family, people the rest."""


class SparkApplicationTrigger(BaseTrigger):
    """Fires once the application is COMPLETED or FAILED, deleted, stuck pending, or past its deadline.

    :param name: SparkApplication name.
    :param namespace: its namespace.
    :param kubernetes_conn_id: Airflow `kubernetes` connection.
    :param started_at: epoch seconds the attempt was submitted (start of the startup timeout).
    :param deadline: epoch seconds after which the wait ends as timed out.
    :param startup_timeout: seconds the driver may stay unscheduled while capacity is provisioned.
    :param poll_interval: seconds between checks that do not come from the watch (startup, fallback).
    :param log_interval: seconds between reads of the driver log while it runs, new lines logged
        (None: no streaming). After a triggerer restart a few lines may be logged twice.
    :param delete_on_kill: delete the application when a user kills the task (not for sensors).
    :param state: opaque operator state, returned unchanged in the event.
    :param pending_explain_after: seconds after which unscheduled driver or executor pods are explained
        in the log and the `startup.unschedulable` metric (None: never; see `triggers.pending`).
    :param fail_fast_on_unschedulable: end the wait with the explanation instead of waiting on.
    :param metric_tags: tags of the metric (the operator's tenant, job and backend).
    """

    def __init__(
        self,
        name: str,
        namespace: str,
        kubernetes_conn_id: str = "kubernetes_default",
        *,
        started_at: float | None = None,
        deadline: float | None = None,
        startup_timeout: float | None = None,
        poll_interval: float = 30.0,
        log_interval: float | None = None,
        delete_on_kill: bool = True,
        state: dict[str, Any] | None = None,
        pending_explain_after: float | None = None,
        fail_fast_on_unschedulable: bool = False,
        metric_tags: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.started_at = started_at if started_at is not None else time.time()
        self.deadline = deadline
        self.startup_timeout = startup_timeout
        self.poll_interval = poll_interval
        self.log_interval = log_interval
        self.delete_on_kill = delete_on_kill
        self.state = state or {}
        self.pending_explain_after = pending_explain_after
        self.fail_fast_on_unschedulable = fail_fast_on_unschedulable
        self.metric_tags = metric_tags

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "name": self.name,
                "namespace": self.namespace,
                "kubernetes_conn_id": self.kubernetes_conn_id,
                "started_at": self.started_at,
                "deadline": self.deadline,
                "startup_timeout": self.startup_timeout,
                "poll_interval": self.poll_interval,
                "log_interval": self.log_interval,
                "delete_on_kill": self.delete_on_kill,
                "state": self.state,
                "pending_explain_after": self.pending_explain_after,
                "fail_fast_on_unschedulable": self.fail_fast_on_unschedulable,
                "metric_tags": self.metric_tags,
            },
        )

    def _hook(self) -> AsyncSparkOperatorHook:
        # Imported here: the Kubernetes clients take seconds to import, and DAG files never need them.
        from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook

        return AsyncSparkOperatorHook(conn_id=self.kubernetes_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        payload = await self.wait()
        yield TriggerEvent({**payload, "name": self.name, "namespace": self.namespace, "state": self.state})

    async def wait(self) -> dict[str, Any]:
        """Wait until the run ends; return `{"evidence": ...}` or `{"classification": ...}`."""
        snapshots: list[dict[str, Any]] = []
        seen: dict[str, dict[str, Any] | None] = {"pod": None, "node": None}
        key = (self.kubernetes_conn_id, self.namespace)
        logs = DriverLog(self.log_interval, self.log) if self.log_interval else None
        pending = self._explainer()
        subscription = REGISTRY.subscribe(key, self.namespace, self.name, self._hook, self.poll_interval)
        async with subscription as (watch, updates):
            hook = watch.hook
            latest = await self._first_look(watch, updates, hook)
            while True:
                if latest is None:
                    last = app_state(snapshots[-1]) if snapshots else None
                    return {
                        "evidence": Cancelled(
                            by="external", last_state=last, detail="SparkApplication deleted"
                        ).to_dict()
                    }
                changed = _record(snapshots, latest)
                state = app_state(latest)
                if changed and state in LOOK_AT_DRIVER:
                    await _look_at_driver(hook, latest, seen)
                if state == "COMPLETED":  # answer at once, with no API call: what was seen running is enough
                    return {"evidence": SparkOperatorEvidence(snapshots=tuple(snapshots), **_seen(seen)).to_dict()}
                if state in SPARK_APPLICATION.terminal:
                    evidence = await hook.driver_evidence(latest, seen["pod"], seen["node"])
                    return {"evidence": SparkOperatorEvidence(snapshots=tuple(snapshots), **evidence).to_dict()}
                now = time.time()
                if self.deadline is not None and now >= self.deadline:
                    return {
                        "evidence": TimedOut(
                            stage="run", timeout_seconds=self.deadline - self.started_at, last_state=state
                        ).to_dict()
                    }
                if pending is not None and (verdict := await pending.check(hook, latest, state, now)) is not None:
                    return {"classification": verdict.to_dict()}
                stuck = await self._startup_verdict(hook, latest, state, now, pending)
                if stuck is not None:
                    return stuck
                if logs is not None and state in LOOK_AT_DRIVER:
                    await logs.stream(hook, latest, now)
                wake_at = [logs.next_at if logs else None, pending.wake_at(now) if pending else None]
                latest = await self._next(watch, updates, hook, latest, now, wake_at)

    async def _first_look(self, watch: ApplicationWatch, updates: Inbox, hook: AsyncSparkOperatorHook) -> Update:
        """The application now: from the watch's cache, however long the first list of ten thousand
        applications takes; one GET of our own if the watch is down, did not list it, or had listed
        before we came and brings nothing within `poll_interval` (at most 5 s)."""
        try:
            return await updates.get(min(self.poll_interval, 5.0) if watch.synced.is_set() else None)
        except TimeoutError:
            return await hook.get_application(self.name, self.namespace)

    def _explainer(self) -> PendingExplainer | None:
        if self.pending_explain_after is None:
            return None
        return PendingExplainer(
            self.pending_explain_after, self.fail_fast_on_unschedulable, self.started_at, self.metric_tags, self.log
        )

    async def _next(
        self,
        watch: ApplicationWatch,
        updates: Inbox,
        hook: AsyncSparkOperatorHook,
        latest: dict[str, Any],
        now: float,
        wake_at: list[float | None],
    ) -> Update:
        """The next update from the watch; a GET of our own only while the watch is unhealthy."""
        try:
            return await updates.get(self._wake_after(watch, app_state(latest), now, wake_at))
        except TimeoutError:
            if watch.healthy:
                return latest
            return await hook.get_application(self.name, self.namespace)

    def _wake_after(self, watch: ApplicationWatch, state: str, now: float, wake_at: list[float | None]) -> float | None:
        """Seconds until the wait must look again without an update, or None. A healthy watch delivers
        every change (and wakes its subscribers if it goes down), so a running application's wait
        holds no timer and costs no wakeup: ten thousand of them, zero wakeups a second."""
        due = [until for until in (self.deadline, *wake_at) if until is not None]
        if not watch.healthy:
            due.append(now + self.poll_interval)
        if self.startup_timeout is not None and state in NOT_STARTED:
            startup_ends = self.started_at + self.startup_timeout
            due.append(startup_ends if startup_ends > now else now + self.poll_interval)
        return max(min(due) - now, 0.0) if due else None

    async def _startup_verdict(
        self,
        hook: AsyncSparkOperatorHook,
        application: dict[str, Any],
        state: str,
        now: float,
        pending: PendingExplainer | None = None,
    ) -> dict[str, Any] | None:
        """Past the startup timeout and still not running: look at the driver pod and its events."""
        if self.startup_timeout is None or state not in NOT_STARTED:
            return None
        waited = now - self.started_at
        if waited < self.startup_timeout:
            return None
        evidence = await hook.driver_evidence(application)
        explained = pending.last_line if pending is not None else None
        verdict = check_pending(evidence["driver_pod"], evidence["events"], waited, self.startup_timeout, explained)
        if verdict.keep_waiting or verdict.classification is None:
            self.log.info("%s/%s not running after %.0fs: %s", self.namespace, self.name, waited, verdict.reason)
            return None
        return {"classification": verdict.classification.to_dict()}

    async def on_kill(self) -> None:
        """A user killed the task (Airflow 3.3+): delete what this task submitted, so nothing is orphaned."""
        if self.delete_on_kill:
            self.log.info("Deleting SparkApplication %s/%s", self.namespace, self.name)
            hook = self._hook()
            try:
                await hook.delete_application(self.name, self.namespace)
            finally:
                await hook.close()


class DriverLog:
    """Streams the driver's log into the task log: every `interval` seconds, the lines of the last
    interval (and a few seconds more), minus those already written, told apart by their timestamps."""

    OVERLAP_S = 5

    def __init__(self, interval: float, log: Any) -> None:
        self.interval = interval
        self.log = log
        self.next_at = time.time() + interval
        self._mark = ""
        self._at_mark: set[str] = set()

    async def stream(self, hook: AsyncSparkOperatorHook, application: dict[str, Any], now: float) -> None:
        if now < self.next_at:
            return
        self.next_at = now + self.interval
        try:
            lines = await hook.driver_log_since(application, math.ceil(self.interval) + self.OVERLAP_S)
        except Exception as exc:  # a log read never ends a wait
            self.log.warning("Could not read the driver log: %s", exc)
            return
        for line in lines:
            stamp, _, text = line.partition(" ")
            if stamp < self._mark or (stamp == self._mark and text in self._at_mark):
                continue
            if stamp > self._mark:
                self._mark, self._at_mark = stamp, set()
            self._at_mark.add(text)
            self.log.info("driver: %s", text)


async def _look_at_driver(hook: AsyncSparkOperatorHook, application: dict[str, Any], seen: dict[str, Any]) -> None:
    """Keep what the classifier reads of the driver pod and its node, in case both vanish (spot).
    A function of its own so that the full objects die with its frame, not live as the wait's locals."""
    pod, node = await hook.driver_pod_and_node(application)
    seen["pod"], seen["node"] = _slim_pod(pod) or seen["pod"], _slim_node(node) or seen["node"]


def _seen(seen: dict[str, Any]) -> dict[str, Any]:
    """The driver pod and node kept from the run, as evidence (queue time, capacity type, family)."""
    node = seen["node"] or {}
    return {
        "driver_pod": seen["pod"],
        "node_labels": node.get("metadata", {}).get("labels") or {},
        "node_taints": node.get("spec", {}).get("taints") or [],
    }


def _pick(mapping: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: mapping[key] for key in keys if key in mapping} if isinstance(mapping, dict) else {}


def _slim_pod(pod: dict[str, Any] | None) -> dict[str, Any] | None:
    """The parts of a driver pod the classifier reads (`outcomes/kube.py`), kept while the wait lasts."""
    if not pod:
        return None
    status = pod.get("status") or {}
    return {
        "metadata": _pick(pod.get("metadata"), ("name", "namespace")),
        "spec": _pick(pod.get("spec"), ("nodeName", "nodeSelector")),
        "status": {
            **_pick(status, ("phase", "reason", "message", "startTime")),
            "conditions": [c for c in status.get("conditions") or [] if c.get("type") == "DisruptionTarget"],
            "containerStatuses": [_terminated(c) for c in status.get("containerStatuses") or []],
        },
    }


def _terminated(container: dict[str, Any]) -> dict[str, Any]:
    """A container status reduced to its name and any `terminated` state (what exit codes come from)."""
    kept: dict[str, Any] = {"name": container.get("name")}
    for key in ("state", "lastState"):
        terminated = (container.get(key) or {}).get("terminated")
        if terminated:
            kept[key] = {"terminated": terminated}
    return kept


def _slim_node(node: dict[str, Any] | None) -> dict[str, Any] | None:
    if not node:
        return None
    meta = node.get("metadata") or {}
    return {
        "metadata": {"name": meta.get("name"), "labels": _pick(meta.get("labels"), NODE_LABELS)},
        "spec": {"taints": (node.get("spec") or {}).get("taints") or []},
    }


def _record(snapshots: list[dict[str, Any]], application: dict[str, Any]) -> bool:
    """Keep a status snapshot whenever the state or its message changes (the operator wipes
    `errorMessage` when it retries, so the FAILING snapshot is the only copy of the cause).
    Returns whether the state changed."""
    status = slim_status(application.get("status"))
    if not snapshots or snapshots[-1].get("applicationState") != status.get("applicationState"):
        snapshots.append(status)
        return True
    snapshots[-1] = status
    return False


__all__ = ["SparkApplicationTrigger"]
