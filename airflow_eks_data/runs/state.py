"""What survives a deferral or a worker restart: one frozen, versioned value.

The operator hands `RunState.to_dict()` to every trigger, which echoes it in its event; the next
`execute_complete` (maybe in another worker, maybe after an upgrade) reads it back with
`RunState.from_dict`, which also reads what the previous release wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from airflow_eks_data.outcomes.model import FrozenModel
from airflow_eks_data.outcomes.policy import OnDemandEscalation
from airflow_eks_data.outcomes.record import AttemptRecord

VERSION: Literal[2] = 2


class Run(FrozenModel):
    """One submitted attempt: its name (application or job run id), where it runs, and its attempt."""

    name: str
    location: str = Field(description="The namespace, virtual cluster or host: the backend says which.")
    attempt: int = 1
    created: bool = Field(True, description="False when submitting found the attempt already there.")


class RunState(FrozenModel):
    version: Literal[2] = VERSION
    backend: str
    key: str = Field(description="The task instance's key: names and labels every attempt of it.")
    try_number: int
    attempt: int = 1
    interruptions: int = 0
    holds: int = Field(0, description="Times the backend held the current attempt back (a full queue).")
    escalation: OnDemandEscalation = OnDemandEscalation()
    started_at: float
    submitted_at: float | None = None
    run: Run | None = None
    records: tuple[AttemptRecord, ...] = ()
    usage: tuple[dict[str, Any], ...] = ()

    def deadline(self, timeout: float | None) -> float | None:
        """When the try gives up: `timeout` counts from its start, across resubmissions and holds."""
        return self.started_at + timeout if timeout else None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, backend: str, event: Mapping[str, Any] | None = None) -> RunState:
        """The state in `data`, of this version or the previous one (an untyped dict without a
        version, its run's name and namespace in the event): an upgrade mid-run loses no job."""
        version = data.get("version")
        if version == VERSION:
            return cls.model_validate(data)
        if version is not None:
            raise ValueError(f"run state version {version!r} is newer than this release reads ({VERSION})")
        event = event or {}
        run = None
        if "name" in event:
            run = Run(name=str(event["name"]), location=str(event["namespace"]), attempt=int(data["attempt"]))
        return cls(
            backend=backend,
            key=str(data["key"]),
            try_number=int(data["try"]),
            attempt=int(data["attempt"]),
            interruptions=int(data.get("interruptions", 0)),
            escalation=OnDemandEscalation.model_validate(data.get("escalation") or {}),
            started_at=float(data["started"]),
            submitted_at=data.get("submitted"),
            run=run,
            records=tuple(AttemptRecord.model_validate(record) for record in data.get("records", ())),
            usage=tuple(data.get("usage", ())),
        )
