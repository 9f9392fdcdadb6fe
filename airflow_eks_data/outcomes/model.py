"""The verdict every wait ends in: an outcome, one human reason, and the evidence lines behind it."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, field_validator

MAX_EVIDENCE_LINES = 12
MAX_LINE_CHARS = 200


class Outcome(str, Enum):
    """How an attempt ended; the policy acts on this, the reason and evidence explain it to people."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """The application's own fault (non-zero exit, OOM, bad arguments): retrying will not help."""
    INTERRUPTED = "interrupted"
    """Infrastructure took the attempt (spot reclaim, drain, eviction, node lost): resubmit."""
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class FrozenModel(BaseModel):
    """Immutable, strict, JSON-round-trippable: evidence travels through trigger events and XCom."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def short(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """One line, bounded, so thousands of XCom entries stay small and logs stay readable."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class Classification(FrozenModel):
    """The outcome of one attempt, with the reason and the facts it rests on (short lines)."""

    outcome: Outcome
    reason: str
    evidence: tuple[str, ...] = ()

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return short(value, 300)

    @field_validator("evidence")
    @classmethod
    def _bounded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        lines: list[str] = []
        for line in value:
            text = short(line)
            if text and text not in lines:
                lines.append(text)
        return tuple(lines[:MAX_EVIDENCE_LINES])

    def to_dict(self) -> dict[str, object]:
        """The JSON form logged and stored in XCom."""
        return self.model_dump(mode="json")


class NotTerminalError(ValueError):
    """Classification was asked for a run that has not ended; the caller should keep waiting."""
