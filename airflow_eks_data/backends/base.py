"""What every backend offers the operator. The operator performs the steps `runs.steps` decides; a
backend owns the API calls, the trigger and the links of one kind of run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

from airflow_eks_data.runs.state import Run, RunState

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger

    from airflow_eks_data.pipeline import Prepared
    from airflow_eks_data.resolve import ResolvedJob


class HeldBack(Exception):
    """The backend cannot take the attempt yet (a full queue, a quota, throttling past a short budget).

    The operator submits the same attempt again later, waiting in the triggerer, so a full queue holds
    no worker slot and the same client token keeps the eventual submission single."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


TASK_KEY_MARK = "airflow-eks-data/task-key"
TRY_MARK = "airflow-eks-data/try"
ATTEMPT_MARK = "airflow-eks-data/attempt"


@dataclass(frozen=True)
class Connections:
    """The operator's connection arguments, and where a backend writes what the task log should show."""

    kubernetes_conn_id: str = "kubernetes_default"
    aws_conn_id: str | None = "aws_default"
    region_name: str | None = None
    log: Callable[[str], None] = print


class Attempt(NamedTuple):
    """Identity of one attempt: the task's key and try, and the attempt within the try."""

    key: str
    try_number: int
    number: int


def attempt_marks(attempt: Attempt) -> dict[str, str]:
    """The labels (Spark Operator) or tags (EMR) naming a run's task, try and attempt: the one link from
    a task to its run that outlives the worker."""
    return {TASK_KEY_MARK: attempt.key, TRY_MARK: str(attempt.try_number), ATTEMPT_MARK: str(attempt.number)}


@dataclass(frozen=True)
class WaitSettings:
    started_at: float
    deadline: float | None
    startup_timeout: float | None
    poll_interval: float
    log_interval: float | None = None
    pending_explain_after: float | None = None
    """Explain still-unscheduled pods after this long (backends that can read them)."""
    fail_fast_on_unschedulable: bool = False
    metric_tags: dict[str, str] | None = None
    """The tags of metrics the trigger emits itself (the operator's tenant, job and backend)."""

    def trigger_kwargs(self, *names: str) -> dict[str, Any]:
        """The times every trigger takes, and the other settings in `names` that this one takes too."""
        kwargs = {"started_at": self.started_at, "deadline": self.deadline, "poll_interval": self.poll_interval}
        return kwargs | {name: getattr(self, name) for name in names}

    @classmethod
    def of(
        cls, state: RunState, timeout: float | None, startup_timeout: float | None, poll: float, logs: float | None
    ) -> WaitSettings:
        """From the submission on, to the try's deadline."""
        return cls(state.submitted_at or state.started_at, state.deadline(timeout), startup_timeout, poll, logs)


class Backend(Protocol):
    can_defer: ClassVar[bool]
    """False when the run lives in the worker (local spark-submit), so the wait cannot move."""

    def __init__(self, connections: Connections) -> None: ...

    def reattach(self, job: ResolvedJob, key: str, remembered: Run | None) -> Run | None:
        """This task's run from an earlier try that still runs or succeeded, to wait on instead of
        submitting again: `remembered` (from Airflow's task state store) if it qualifies, else a lookup."""

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        """Submit one attempt idempotently (a repeated call returns the same run)."""

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> BaseTrigger:
        """The trigger that waits for `run` and echoes `state` in its event, with the outcome evidence."""

    def cancel(self, run: Run | None) -> None:
        """Stop the run (or, None, whatever this backend started); nothing may keep running."""

    def log_tail(self, run: Run, lines: int) -> list[str]:
        """The end of the driver's log, if the backend can read it."""

    def links(self, job: ResolvedJob, run: Run, app_id: str) -> dict[str, str | None]:
        """The operator's extra links (`links.spark`) this backend offers, by field."""

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
        """Backend-specific fields of the task's XCom result."""
