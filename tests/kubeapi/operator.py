"""A simulated kubeflow Spark Operator (v2.5.2 state machine) running on the server's loop.

It reconciles each SparkApplication as the real controller does: it submits (creating the driver
pod through ``Cluster``), derives the application state from the driver pod, tracks executors,
honours ``restartPolicy`` and ``timeToLiveSeconds`` and records the operator's events. What the
pods do is decided by the application's scenario (``scenarios.py``), played by ``Cluster``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.kubeapi.clock import SimClock
from tests.kubeapi.cluster import PODS, Cluster
from tests.kubeapi.resources import BY_PLURAL, ResourceType
from tests.kubeapi.scenarios import SCENARIO_KEY, Outcome, QuotaExceeded, SubmissionFailure, Succeed, parse
from tests.kubeapi.shapes import APP_NAME, APP_SELECTOR, DRIVER_CONTAINER, ROLE, SUBMISSION_ID
from tests.kubeapi.store import Change, Obj, Store

APPS = BY_PLURAL["sparkapplications"]
TERMINAL = ("COMPLETED", "FAILED")
DRIVER_POD_GRACE = 10.0  # --driver-pod-creation-grace-period
COMPONENT = "spark-operator"


@dataclass
class AppRecord:
    """What the controller remembers about one application (its workqueue item)."""

    namespace: str
    name: str
    uid: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    attempts: int = 0
    submitted_at: float = 0.0
    terminated_at: float = 0.0
    driver_state: str = ""
    states: list[str] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def _retry_conf(app: Obj) -> dict[str, Any]:
    policy: dict[str, Any] = dict(app["spec"].get("restartPolicy") or {})
    policy.setdefault("type", "Never")
    if policy["type"] != "Never":
        policy.setdefault("onFailureRetryInterval", 5)
        policy.setdefault("onSubmissionFailureRetryInterval", 5)
    return policy


class SparkOperator:
    """Controller for ``sparkoperator.k8s.io/v1beta2`` SparkApplications."""

    def __init__(self, store: Store, cluster: Cluster, clock: SimClock) -> None:
        self.store = store
        self.cluster = cluster
        self.clock = clock
        self.scripts: dict[str, tuple[Outcome, ...]] = {}
        self.default: tuple[Outcome, ...] = (Succeed(),)
        self.records: dict[tuple[str, str], AppRecord] = {}
        self.history: dict[tuple[str, str], list[str]] = {}
        self.paused = False
        store.listeners.append(self._on_change)

    # ---- scenario choice ---------------------------------------------------------------------

    def outcomes_for(self, app: Obj) -> tuple[Outcome, ...]:
        """Scripted by exact name, then by glob on the name, then by the scenario label/annotation."""
        meta = app["metadata"]
        name = meta["name"]
        if name in self.scripts:
            return self.scripts[name]
        marker = (meta.get("annotations") or {}).get(SCENARIO_KEY) or (meta.get("labels") or {}).get(SCENARIO_KEY)
        if marker:
            if marker in self.scripts:
                return self.scripts[marker]
            parsed = parse(marker)
            if parsed:
                return parsed
        for pattern, outcomes in self.scripts.items():
            if fnmatch.fnmatchcase(name, pattern):
                return outcomes
        return self.default

    # ---- store reactions ---------------------------------------------------------------------

    def _on_change(self, rtype: ResourceType, change: Change) -> None:
        if rtype is APPS:
            meta = change.obj["metadata"]
            key = (meta["namespace"], meta["name"])
            if change.type == "ADDED":
                record = AppRecord(meta["namespace"], meta["name"], meta["uid"])
                self.records[key] = record
                self.history[key] = record.states
                self._spawn(record, self._manage(record))
            elif change.type == "DELETED":
                gone = self.records.pop(key, None)
                if gone is not None:
                    for task in gone.tasks:
                        task.cancel()
            elif (known := self.records.get(key)) is not None:
                known.wake.set()
        elif rtype is PODS:
            labels = change.obj["metadata"].get("labels") or {}
            app_name = labels.get(APP_NAME)
            if app_name:
                owner = self.records.get((change.obj["metadata"]["namespace"], app_name))
                if owner is not None:
                    owner.wake.set()

    def _spawn(self, record: AppRecord, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        record.tasks.add(task)
        task.add_done_callback(record.tasks.discard)

    # ---- reconcile loop ----------------------------------------------------------------------

    async def _manage(self, record: AppRecord) -> None:
        app = self._app(record)
        if app is not None:
            self._app_event(
                app, "SparkApplicationAdded", f"SparkApplication {record.name} was added, enqueuing it for submission"
            )
        while True:
            app = self._app(record)
            if app is None:
                return
            delay = None if self.paused else self._reconcile(record, app)
            if delay == -1:
                return
            record.wake.clear()
            if delay == 0:
                await asyncio.sleep(0)
                continue
            waiter = asyncio.ensure_future(record.wake.wait())
            waits: set[asyncio.Future[Any]] = {waiter}
            if delay is not None:
                waits.add(asyncio.ensure_future(self.clock.sleep(delay)))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for fut in waits:
                    fut.cancel()

    def _app(self, record: AppRecord) -> Obj | None:
        app = self.store.get(APPS, record.namespace, record.name)
        if app is None or app["metadata"]["uid"] != record.uid:
            return None
        return app

    def _reconcile(self, record: AppRecord, app: Obj) -> float | None:
        """One reconcile; returns simulated seconds until the next timer, 0 to rerun, -1 to stop."""
        status = app.get("status") or {}
        state = (status.get("applicationState") or {}).get("state", "")
        now = self.clock.now()
        policy = _retry_conf(app)
        if state == "":
            self._submit(record, app)
            return 0
        if state in ("SUBMITTED", "RUNNING", "UNKNOWN"):
            return self._track_driver(record, app, state, now)
        if state == "SUCCEEDING":
            if policy["type"] == "Always":
                return self._rerun_after(record, app, policy.get("onFailureRetryInterval", 5), now)
            self._set_state(record, app, "COMPLETED", terminated=True)
            self._app_event(app, "SparkApplicationCompleted", f"SparkApplication {record.name} completed")
            return 0
        if state == "FAILING":
            attempts = int(status.get("executionAttempts") or 0)
            retries = policy.get("onFailureRetries")
            if policy["type"] == "Always" or (
                policy["type"] == "OnFailure" and retries is not None and attempts <= int(retries)
            ):
                return self._rerun_after(record, app, float(policy["onFailureRetryInterval"]) * attempts, now)
            self._set_state(record, app, "FAILED", terminated=True)
            message = (status.get("applicationState") or {}).get("errorMessage", "")
            self._app_event(
                app, "SparkApplicationFailed", f"SparkApplication {record.name} failed: {message}", warning=True
            )
            return 0
        if state == "SUBMISSION_FAILED":
            attempts = int(status.get("submissionAttempts") or 0)
            retries = policy.get("onSubmissionFailureRetries")
            if policy["type"] == "Always" or (
                policy["type"] == "OnFailure" and retries is not None and attempts <= int(retries)
            ):
                due = record.submitted_at + float(policy["onSubmissionFailureRetryInterval"]) * attempts
                if now < due:
                    return due - now
                self._submit(record, app)
                return 0
            self._set_state(record, app, "FAILED", terminated=True)
            self._app_event(
                app, "SparkApplicationFailed", f"SparkApplication {record.name} failed: submission failed", warning=True
            )
            return 0
        if state == "PENDING_RERUN":
            driver = (status.get("driverInfo") or {}).get("podName")
            if driver and self.store.get(PODS, record.namespace, driver) is not None:
                return 1.0
            self._submit(record, app)
            return 0
        if state in TERMINAL:
            ttl = app["spec"].get("timeToLiveSeconds")
            if ttl is None:
                return -1
            due = record.terminated_at + float(ttl)
            if now < due:
                return due - now
            self.store.delete(APPS, record.namespace, record.name)
            return -1
        return None

    def _rerun_after(self, record: AppRecord, app: Obj, interval: float, now: float) -> float:
        due = record.submitted_at + interval
        if now < due:
            return due - now
        driver = ((app.get("status") or {}).get("driverInfo") or {}).get("podName")
        if driver and self.store.get(PODS, record.namespace, driver) is not None:
            self.store.delete(PODS, record.namespace, driver)

        def reset(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["applicationState"] = {"state": "PENDING_RERUN"}
            st["driverInfo"] = {}
            for key in ("executorState", "sparkApplicationId", "terminationTime"):
                st.pop(key, None)

        self.store.mutate(APPS, record.namespace, record.name, reset)
        record.states.append("PENDING_RERUN")
        self._app_event(app, "SparkApplicationPendingRerun", f"SparkApplication {record.name} is pending rerun")
        return 0

    # ---- submission --------------------------------------------------------------------------

    def _submit(self, record: AppRecord, app: Obj) -> None:
        outcomes = self.outcomes_for(app)
        outcome = outcomes[min(record.attempts, len(outcomes) - 1)]
        record.attempts += 1
        record.submitted_at = self.clock.now()
        stamp = self.clock.timestamp()
        if isinstance(outcome, SubmissionFailure):

            def failed(obj: Obj) -> None:
                st = obj.setdefault("status", {})
                st["applicationState"] = {"state": "SUBMISSION_FAILED", "errorMessage": outcome.message}
                st.setdefault("driverInfo", {})
                st["submissionAttempts"] = int(st.get("submissionAttempts") or 0) + 1
                st["lastSubmissionAttemptTime"] = stamp

            self.store.mutate(APPS, record.namespace, record.name, failed)
            record.states.append("SUBMISSION_FAILED")
            self._app_event(
                app,
                "SparkApplicationSubmissionFailed",
                f"failed to submit SparkApplication {record.name}: {outcome.message}",
                warning=True,
            )
            if isinstance(outcome, QuotaExceeded):
                self._app_event(app, "FailedCreate", outcome.refusal(f"{record.name}-driver"), warning=True)
            return
        submission_id = str(uuid.uuid4())
        app_id = f"spark-{secrets.token_hex(16)}"
        driver = self.cluster.make_driver(app, submission_id, app_id)
        driver_name = driver["metadata"]["name"]

        def submitted(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["applicationState"] = {"state": "SUBMITTED"}
            st["driverInfo"] = {"podName": driver_name}
            st["submissionID"] = submission_id
            st["sparkApplicationId"] = app_id
            st["submissionAttempts"] = int(st.get("submissionAttempts") or 0) + 1
            st["executionAttempts"] = int(st.get("executionAttempts") or 0) + 1
            st["lastSubmissionAttemptTime"] = stamp
            st.pop("terminationTime", None)
            st.pop("executorState", None)

        self.store.mutate(APPS, record.namespace, record.name, submitted)
        record.states.append("SUBMITTED")
        record.driver_state = ""
        self._app_event(app, "SparkApplicationSubmitted", f"SparkApplication {record.name} was submitted successfully")
        self._spawn(record, self.cluster.run_attempt(app, driver, outcome))

    # ---- driver and executor tracking ---------------------------------------------------------

    def _track_driver(self, record: AppRecord, app: Obj, state: str, now: float) -> float | None:
        status = app.get("status") or {}
        pod_name = (status.get("driverInfo") or {}).get("podName", "")
        pod = self.store.get(PODS, record.namespace, pod_name)
        if pod is not None and (pod["metadata"].get("labels") or {}).get(SUBMISSION_ID) != status.get("submissionID"):
            pod = None
        if pod is None:
            if state == "SUBMITTED" and now < record.submitted_at + DRIVER_POD_GRACE:
                return record.submitted_at + DRIVER_POD_GRACE - now
            self._fail(record, app, "driver pod not found")
            return 0
        phase = pod["status"].get("phase", "")
        driver_cs = next(
            (cs for cs in pod["status"].get("containerStatuses", []) if cs["name"] == DRIVER_CONTAINER), None
        )
        terminated = (driver_cs or {}).get("state", {}).get("terminated")
        new_state = {"Pending": "SUBMITTED", "Running": "RUNNING", "Succeeded": "SUCCEEDING", "Failed": "FAILING"}.get(
            phase, "UNKNOWN"
        )
        if phase == "Running" and terminated is not None:
            new_state = "SUCCEEDING" if terminated.get("exitCode") == 0 else "FAILING"
        if phase == "Failed" and terminated is not None and terminated.get("exitCode") == 0:
            new_state = "SUCCEEDING"
        self._driver_event(record, app, pod, phase)
        executor_states = self._executor_states(record, app, pod, new_state)
        if new_state == "FAILING":
            if terminated is None:
                message = "driver container status missing"
            else:
                message = (
                    f"driver container failed with ExitCode: {terminated.get('exitCode')}, "
                    f"Reason: {terminated.get('reason', '')}"
                )
            self._fail(record, app, message, executor_states)
            return 0
        sel = pod["metadata"]["labels"].get(APP_SELECTOR)

        def update(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["applicationState"] = {"state": new_state}
            if sel:
                st["sparkApplicationId"] = sel
            if new_state == "RUNNING":
                st["driverInfo"] = {
                    "podName": pod_name,
                    "webUIServiceName": f"{record.name}-ui-svc",
                    "webUIPort": 4040,
                    "webUIAddress": f"172.20.{len(record.name) % 250}.{record.attempts % 250}:4040",
                }
            if executor_states:
                st["executorState"] = executor_states
            if new_state == "SUCCEEDING":
                st["terminationTime"] = self.clock.timestamp()

        self._write(record, app, update, new_state)
        return 0 if new_state == "SUCCEEDING" else None

    def _executor_states(self, record: AppRecord, app: Obj, driver: Obj, app_state: str) -> dict[str, str]:
        status = app.get("status") or {}
        old: dict[str, str] = dict(status.get("executorState") or {})
        submission = driver["metadata"]["labels"].get(SUBMISSION_ID)
        # Executors are owned by the driver pod (as Spark sets them), so the owner index finds them.
        pods = [
            p
            for rtype, p in self.store.owned_by(driver["metadata"]["uid"])
            if rtype is PODS
            and (p["metadata"].get("labels") or {}).get(APP_NAME) == record.name
            and p["metadata"]["labels"].get(ROLE) == "executor"
            and p["metadata"]["labels"].get(SUBMISSION_ID) == submission
        ]
        states = dict(old)
        for pod in pods:
            name = pod["metadata"]["name"]
            phase = pod["status"].get("phase", "")
            new = {"Pending": "PENDING", "Running": "RUNNING", "Succeeded": "COMPLETED", "Failed": "FAILED"}.get(
                phase, "UNKNOWN"
            )
            if old.get(name) != new:
                if new == "FAILED":
                    term: dict[str, Any] = next(
                        (
                            cs["state"]["terminated"]
                            for cs in pod["status"].get("containerStatuses", [])
                            if "terminated" in cs.get("state", {})
                        ),
                        {},
                    )
                    self._app_event(
                        app,
                        "SparkExecutorFailed",
                        f"Executor {name} failed with ExitCode: {term.get('exitCode')}, "
                        f"Reason: {term.get('reason', '')}",
                        warning=True,
                    )
                else:
                    self._app_event(app, f"SparkExecutor{new.capitalize()}", f"Executor {name} is {new.lower()}")
            states[name] = new
        present = {p["metadata"]["name"] for p in pods}
        for name, old_state in old.items():
            if name not in present and old_state not in ("COMPLETED", "FAILED"):
                if app_state == "RUNNING":
                    states[name] = "UNKNOWN"
                else:
                    states[name] = "COMPLETED" if app_state == "SUCCEEDING" else "FAILED"
        return states

    def _driver_event(self, record: AppRecord, app: Obj, pod: Obj, phase: str) -> None:
        if phase == record.driver_state:
            return
        record.driver_state = phase
        name = pod["metadata"]["name"]
        reason, message, warning = {
            "Pending": ("SparkDriverPending", f"Driver {name} is pending", False),
            "Running": ("SparkDriverRunning", f"Driver {name} is running", False),
            "Succeeded": ("SparkDriverCompleted", f"Driver {name} completed", False),
            "Failed": ("SparkDriverFailed", f"Driver {name} failed", True),
        }.get(phase, ("SparkDriverUnknown", f"Driver {name} in unknown state", True))
        self._app_event(app, reason, message, warning=warning)

    def _fail(self, record: AppRecord, app: Obj, message: str, executor_states: dict[str, str] | None = None) -> None:
        def update(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["applicationState"] = {"state": "FAILING", "errorMessage": message}
            st["terminationTime"] = self.clock.timestamp()
            if executor_states:
                st["executorState"] = executor_states

        record.terminated_at = self.clock.now()
        self._write(record, app, update, "FAILING")

    def _set_state(self, record: AppRecord, app: Obj, state: str, terminated: bool = False) -> None:
        def update(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            error = (st.get("applicationState") or {}).get("errorMessage")
            st["applicationState"] = {"state": state, **({"errorMessage": error} if error else {})}
            if terminated:
                st.setdefault("terminationTime", self.clock.timestamp())
                if state == "COMPLETED":
                    st["executorState"] = {
                        k: "COMPLETED" if v != "FAILED" else v for k, v in (st.get("executorState") or {}).items()
                    }

        if terminated:
            record.terminated_at = self.clock.now()
        self._write(record, app, update, state)

    def _write(self, record: AppRecord, app: Obj, fn: Any, state: str) -> None:
        before = app.get("status")
        updated = self.store.mutate(APPS, record.namespace, record.name, fn)
        changed = updated is not None and updated.get("status") != before
        if changed and (not record.states or record.states[-1] != state):
            record.states.append(state)

    def _app_event(self, app: Obj, reason: str, message: str, warning: bool = False) -> None:
        self.cluster.event(app, reason, message, warning=warning, component=COMPONENT)
