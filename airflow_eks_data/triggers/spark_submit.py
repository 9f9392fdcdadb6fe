"""The verdict of a local spark-submit that already ended in the worker.

The local backend cannot defer (the driver is a child of the worker), so the operator reads this
trigger's one event in process; going through a trigger all the same keeps one path for every backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_eks_data.outcomes import Classification, Outcome


class SparkSubmitExitTrigger(BaseTrigger):
    def __init__(self, name: str, exit_code: int, running_s: float, state: dict[str, Any]) -> None:
        super().__init__()
        self.name = name
        self.exit_code = exit_code
        self.running_s = running_s
        self.state = state

    def serialize(self) -> tuple[str, dict[str, Any]]:
        kwargs = {"name": self.name, "exit_code": self.exit_code, "running_s": self.running_s, "state": self.state}
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    async def run(self) -> AsyncIterator[TriggerEvent]:
        ok = self.exit_code == 0
        verdict = Classification(
            outcome=Outcome.SUCCEEDED if ok else Outcome.FAILED,
            reason=f"spark-submit exited with code {self.exit_code}",
        )
        yield TriggerEvent(
            {
                "name": self.name,
                "state": self.state,
                "classification": verdict.model_dump(mode="json"),
                "last_state": "COMPLETED" if ok else "FAILED",
                "usage": {"running_s": self.running_s},
            }
        )
