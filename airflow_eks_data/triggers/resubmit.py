"""Sleep out the backoff before resubmitting an interrupted job, without holding a worker slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class ResubmitAfterTrigger(BaseTrigger):
    """Fires at `resume_at` (epoch seconds) with the operator's state echoed back.

    An absolute time rather than a delay, so that a triggerer restart does not restart the wait.
    """

    def __init__(self, resume_at: float, state: dict[str, Any]) -> None:
        super().__init__()
        self.resume_at = resume_at
        self.state = state

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", {"resume_at": self.resume_at, "state": self.state}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        await asyncio.sleep(max(self.resume_at - time.time(), 0.0))
        yield TriggerEvent({"state": self.state})
