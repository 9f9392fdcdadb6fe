# mypy: disable-error-code="attr-defined"
# (the attributes moto's models lack, `attempt` and the like, are added to them here)
"""moto's emr-serverless backend, closer to the service, for tests over HTTP (`EmrMoto` serves it too).

moto's job runs are SUCCESS the moment they start, and it lacks what this package reads. Added here,
while `serverless_fidelity()` is entered (each `ServerlessMoto` server enters it):
- an application is CREATED when created (moto: STARTED); StartApplication makes it STARTING, and it is
  STARTED a moment later (read lazily, on the next call that reads it);
- a job run starts SUBMITTED and stays in its state until a test moves it (`ServerlessMoto.set_state`);
  `createdAt` is the real creation time (moto truncates it to midnight, which breaks `createdAtAfter`),
  and `createdAtAfter` compares aware times;
- StartJobRun is idempotent by `clientToken` (moto: a new run each call), and stores `retryPolicy`;
- CancelJobRun makes a run CANCELLING, CANCELLED a moment later; a finished run is refused with a
  ValidationException (moto: CANCELLED whatever it was);
- ListJobRuns summaries carry `attempt`; GetJobRun returns `attempt`, `retryPolicy`, `stateDetails`;
- GetDashboardForJobRun and ListJobRunAttempts, which moto does not have, from `ServerlessMoto.attempts`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult, PaginatedResult
from moto.core.utils import utcnow
from moto.emrserverless import urls
from moto.emrserverless.exceptions import ResourceNotFoundException, ValidationException
from moto.emrserverless.models import EMRServerlessBackend, JobRun, emrserverless_backends
from moto.emrserverless.responses import EMRServerlessResponse

from tests.emr.moto_emr import ACCOUNT, REGION, EmrMoto

SETTLE_SECONDS = 0.2
"""How long STARTING and CANCELLING last."""
TERMINAL = frozenset({"SUCCESS", "FAILED", "CANCELLED"})
_LOCK = threading.Lock()
_ENTERED = {"servers": 0}
_RUN_PATH = "{0}/applications/(?P<applicationId>[^/]+)/jobruns/(?P<jobRunId>[^/]+)"
urls.url_paths.update({f"{_RUN_PATH}/{leaf}$": EMRServerlessResponse.dispatch for leaf in ("dashboard", "attempts")})


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _settle(item: Any, settling: str, settled: str) -> None:
    if item.state == settling and time.monotonic() - getattr(item, "settling_since", 0.0) >= SETTLE_SECONDS:
        item.state = settled


def _create_application(original: Callable[..., Any]) -> Callable[..., Any]:
    def create(self: EMRServerlessBackend, **kwargs: Any) -> Any:
        app = original(self, **kwargs)
        app.state = "CREATED"
        app.created_at = app.updated_at = utcnow()
        return app

    return create


def _get_application(original: Callable[..., Any]) -> Callable[..., Any]:
    def get(self: EMRServerlessBackend, application_id: str) -> Any:
        app = original(self, application_id)
        _settle(app, "STARTING", "STARTED")
        return app

    return get


def _start_application(self: EMRServerlessBackend, application_id: str) -> None:
    app = self.get_application(application_id)
    if app.state == "TERMINATED":
        raise ValidationException(f"Application {application_id} is terminated")
    if app.state != "STARTED":
        app.state, app.settling_since = "STARTING", time.monotonic()


def _start_job_run(original: Callable[..., JobRun]) -> Callable[..., JobRun]:
    def start(self: EMRServerlessBackend, **kwargs: Any) -> JobRun:
        for run in self.job_runs.get(kwargs["application_id"], []):
            if run.client_token == kwargs["client_token"]:
                return run
        run = original(self, **kwargs)
        run.created_at = run.updated_at = utcnow()
        run.state, run.attempt, run.retry_policy = "SUBMITTED", 1, getattr(self, "_retry_policy", None)
        return run

    return start


def _get_job_run(original: Callable[..., JobRun]) -> Callable[..., JobRun]:
    def get(self: EMRServerlessBackend, application_id: str, job_run_id: str) -> JobRun:
        run = original(self, application_id, job_run_id)
        _settle(run, "CANCELLING", "CANCELLED")
        return run

    return get


def _cancel_job_run(self: EMRServerlessBackend, application_id: str, job_run_id: str) -> tuple[str, str]:
    run = self.get_job_run(application_id, job_run_id)
    if run.state in TERMINAL:
        raise ValidationException(f"Job run {job_run_id} is in a terminal state {run.state}")
    if run.state != "CANCELLING":
        run.state, run.settling_since = "CANCELLING", time.monotonic()
    return application_id, job_run_id


def _list_job_runs(
    self: EMRServerlessBackend,
    application_id: str,
    created_at_after: datetime | None,
    created_at_before: datetime | None,
    states: list[str] | None,
) -> list[JobRun]:
    if application_id not in self.applications:
        raise ResourceNotFoundException(application_id)
    runs = []
    for run in self.job_runs.get(application_id, []):
        _settle(run, "CANCELLING", "CANCELLED")
        created = _aware(run.created_at)
        if states and run.state not in states:
            continue
        if (created_at_after and created <= _aware(created_at_after)) or (
            created_at_before and created >= _aware(created_at_before)
        ):
            continue
        runs.append(run)
    return sorted(runs, key=lambda run: run.created_at, reverse=True)


def _start_job_run_response(original: Callable[[EMRServerlessResponse], Any]) -> Callable[..., Any]:
    def respond(self: EMRServerlessResponse) -> Any:
        self.emrserverless_backend._retry_policy = self._get_param("retryPolicy")
        return original(self)

    return respond


def _list_job_runs_response(self: EMRServerlessResponse) -> Any:
    runs = self.emrserverless_backend.list_job_runs(
        application_id=self._get_param("applicationId"),
        created_at_after=self._get_param("createdAtAfter"),
        created_at_before=self._get_param("createdAtBefore"),
        states=self._get_param("states", []),
    )
    keys = ("applicationId", "id", "name", "arn", "createdAt", "updatedAt", "state", "stateDetails", "releaseLabel")
    summaries = [
        {key: getattr(run, _snake(key)) for key in keys}
        | {"executionRole": run.execution_role_arn, "attempt": run.attempt}
        for run in runs
    ]
    return PaginatedResult({"jobRuns": summaries})


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _dashboard_response(self: EMRServerlessResponse) -> Any:
    app_id, run_id = self._get_param("applicationId"), self._get_param("jobRunId")
    self.emrserverless_backend.get_job_run(app_id, run_id)
    return ActionResult({"url": f"https://p-{run_id}.emrappui-prod.{REGION}.amazonaws.com/shs/?token=test"})


def _attempts_response(self: EMRServerlessResponse) -> Any:
    app_id, run_id = self._get_param("applicationId"), self._get_param("jobRunId")
    run = self.emrserverless_backend.get_job_run(app_id, run_id)
    return PaginatedResult({"jobRunAttempts": list(getattr(run, "attempts", []))})


@contextmanager
def serverless_fidelity() -> Iterator[None]:
    """Patch moto's emr-serverless classes while at least one server is up (reference-counted)."""
    backend, response = EMRServerlessBackend, EMRServerlessResponse
    saved = {name: getattr(backend, name) for name in ("create_application", "get_application", "start_application")}
    saved |= {
        name: getattr(backend, name) for name in ("start_job_run", "get_job_run", "cancel_job_run", "list_job_runs")
    }
    replies = {name: response.__dict__.get(name) for name in ("start_job_run", "list_job_runs")}
    with _LOCK:
        _ENTERED["servers"] += 1
        if _ENTERED["servers"] == 1:
            backend.create_application = _create_application(saved["create_application"])  # type: ignore[method-assign]
            backend.get_application = _get_application(saved["get_application"])  # type: ignore[method-assign]
            backend.start_application = _start_application  # type: ignore[method-assign]
            backend.start_job_run = _start_job_run(saved["start_job_run"])  # type: ignore[method-assign]
            backend.get_job_run = _get_job_run(saved["get_job_run"])  # type: ignore[method-assign]
            backend.cancel_job_run = _cancel_job_run  # type: ignore[method-assign]
            backend.list_job_runs = _list_job_runs  # type: ignore[method-assign]
            response.start_job_run = _start_job_run_response(replies["start_job_run"])  # type: ignore[method-assign,arg-type]
            response.list_job_runs = _list_job_runs_response  # type: ignore[method-assign]
            response.get_dashboard_for_job_run = _dashboard_response
            response.list_job_run_attempts = _attempts_response
    try:
        yield
    finally:
        with _LOCK:
            _ENTERED["servers"] -= 1
            if not _ENTERED["servers"]:
                for name, method in saved.items():
                    setattr(backend, name, method)
                for name, method in replies.items():
                    setattr(response, name, method)


class ServerlessMoto(EmrMoto):
    """`EmrMoto` with emr-serverless as the service behaves, and ways to move its runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._serverless = serverless_fidelity()

    def start(self) -> None:
        self._serverless.__enter__()
        super().start()

    def stop(self) -> None:
        super().stop()
        self._serverless.__exit__(None, None, None)

    @property
    def serverless(self) -> EMRServerlessBackend:
        return emrserverless_backends[ACCOUNT][REGION]

    def create_application(
        self, state: str = "STARTED", release_label: str = "emr-7.5.0", name: str = "datalake"
    ) -> str:
        """An application created through the API, then put in `state` (as the platform left it)."""
        created = self.client("emr-serverless").create_application(name=name, releaseLabel=release_label, type="SPARK")
        self.serverless.applications[created["applicationId"]].state = state
        return str(created["applicationId"])

    def job_runs(self, application_id: str | None = None) -> list[JobRun]:
        return [r for app, runs in self.serverless.job_runs.items() if application_id in (None, app) for r in runs]

    def job_run(self, job_run_id: str) -> JobRun:
        """The run by id, from an index rebuilt on a miss: a scan of every run per state change made
        the 10,000-wait benchmark's server spend its CPU there."""
        index: dict[str, JobRun] = self.__dict__.setdefault("_runs_by_id", {})
        if job_run_id not in index:
            index.clear()
            index.update((run.id, run) for run in self.job_runs())
        return index[job_run_id]

    def set_state(
        self, run_id: str, state: str, failure_reason: str | None = None, state_details: str | None = None
    ) -> None:
        """Move a job run as the service would (`failure_reason` is ignored: EMR Serverless has none)."""
        run = self.job_run(run_id)
        run.state_details = state_details
        run.state, run.updated_at = state, utcnow()

    def retry(self, run_id: str, state_details: str) -> None:
        """The service retried the run on its own (`retryPolicy`): the attempt failed, a new one is PENDING."""
        run = self.job_run(run_id)
        attempts = run.__dict__.setdefault("attempts", [])
        attempts.append({"attempt": run.attempt, "state": "FAILED", "stateDetails": state_details, "id": run.id})
        run.attempt += 1
        attempts.append({"attempt": run.attempt, "state": "PENDING", "id": run.id})
        run.state = "PENDING"

    def finish_attempts(self, run_id: str, state: str) -> None:
        attempts = self.job_run(run_id).__dict__.get("attempts") or []
        if attempts:
            attempts[-1]["state"] = state
