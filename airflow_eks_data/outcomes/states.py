"""Which run states each backend can report, as data: the one table per backend everything reads.

`active`: the run can still change (the Spark Operator's UNKNOWN and SUSPENDED included: neither is
terminal). `terminal`: it will not change again. `succeeded`: the terminal state of a success.
`finished`: nothing runs any more, so nothing is left to cancel or delete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_eks_data.outcomes.model import Classification, NotTerminalError, Outcome


@dataclass(frozen=True)
class StateTable:
    active: frozenset[str]
    terminal: frozenset[str]
    succeeded: frozenset[str]

    @property
    def finished(self) -> frozenset[str]:
        return self.terminal

    def __post_init__(self) -> None:
        if self.active & self.terminal or not self.succeeded <= self.terminal:
            raise ValueError("a state is either active or terminal, and success is terminal")


SPARK_APPLICATION = StateTable(
    # "" is NEW; the operator's `util.IsTerminated` is true for COMPLETED and FAILED only.
    active=frozenset(
        {
            "",
            "SUBMITTED",
            "RUNNING",
            "SUBMISSION_FAILED",
            "SUCCEEDING",
            "FAILING",
            "PENDING_RERUN",
            "INVALIDATING",
            "SUSPENDING",
            "SUSPENDED",
            "RESUMING",
            "UNKNOWN",
        }
    ),
    terminal=frozenset({"COMPLETED", "FAILED"}),
    succeeded=frozenset({"COMPLETED"}),
)
"""`status.applicationState.state` of a kubeflow Spark Operator SparkApplication."""

EMR_JOB_RUN = StateTable(
    active=frozenset({"PENDING", "SUBMITTED", "RUNNING", "CANCEL_PENDING"}),  # CANCEL_PENDING may still run
    terminal=frozenset({"COMPLETED", "FAILED", "CANCELLED"}),
    succeeded=frozenset({"COMPLETED"}),
)
"""`state` of an EMR on EKS (`emr-containers`) job run."""

EMR_SERVERLESS_JOB_RUN = StateTable(
    # botocore's emr-serverless `JobRunState`; QUEUED waits for the application's concurrency limit.
    active=frozenset({"SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "CANCELLING", "QUEUED"}),
    terminal=frozenset({"SUCCESS", "FAILED", "CANCELLED"}),
    succeeded=frozenset({"SUCCESS"}),
)
"""`state` of an EMR Serverless job run (CANCELLING may still run)."""

ANY_FINISHED = SPARK_APPLICATION.finished | EMR_JOB_RUN.finished | EMR_SERVERLESS_JOB_RUN.finished
"""States after which nothing runs any more, whichever backend reported them."""


def settled_verdict(
    state: str, table: StateTable, service: str, verdict: Callable[[Outcome, str], Classification], details: str
) -> Classification | None:
    """The verdict of a success or a cancellation; None for a failure, which each service explains in
    its own words; a state still active is a caller's error."""
    if state not in table.terminal:
        raise NotTerminalError(f"{service} job run state {state!r} is not terminal")
    if state in table.succeeded:
        return verdict(Outcome.SUCCEEDED, f"job run {state}")
    if state == "CANCELLED":
        return verdict(Outcome.CANCELLED, f"job run CANCELLED{': ' + details if details else ''}")
    return None


def application_state(snapshot: Mapping[str, Any]) -> str:
    """`applicationState.state` of a SparkApplication's `status` ("" while it is NEW)."""
    return str((snapshot.get("applicationState") or {}).get("state") or "")
