"""What every deferrable backend offers the operator. The operator owns attempts and decisions; a
backend owns the API calls and the trigger of one kind of run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow.triggers.base import BaseTrigger

from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.targets import Target


@dataclass(frozen=True)
class Run:
    """One submitted attempt: its name (application or job run id), where it runs, and its attempt."""

    name: str
    namespace: str
    attempt: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attempt:
    """Identity of one attempt: the task's key and try, and the attempt within the try."""

    key: str
    try_number: int
    number: int


@dataclass(frozen=True)
class WaitSettings:
    started_at: float
    deadline: float | None
    startup_timeout: float | None
    poll_interval: float
    log_interval: float | None = None


class Backend(Protocol):
    kind: Target

    def adoptable(self, job: ResolvedJob, key: str) -> Run | None:
        """This task's run from an earlier try that still runs or that succeeded, to wait on instead."""

    def still_adoptable(self, run: Run) -> bool:
        """Whether a run remembered by an earlier try still runs or succeeded."""

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        """Submit one attempt idempotently (a repeated call returns the same run)."""

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> BaseTrigger:
        """The trigger that waits for `run` and echoes `state` in its event."""

    def cancel(self, run: Run) -> None:
        """Stop the run; nothing may keep running after the task ended."""

    def log_tail(self, run: Run, lines: int) -> list[str]:
        """The end of the driver's log, if the backend can read it."""

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
        """Backend-specific fields of the task's XCom result."""
