"""A fourth backend, built in the test suite from the registry alone: a queue in this process.

Its fate list says how each attempt ends (`interrupted` or `succeeded`), so one DAG run can go
through submission, a spot-style interruption, an escalated resubmission and success.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_eks_data.backends.base import Attempt, Connections, WaitSettings
from airflow_eks_data.backends.registry import Registration, register
from airflow_eks_data.errors import Problem
from airflow_eks_data.outcomes import Classification, Outcome
from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.render.sourced import Explained
from airflow_eks_data.resolve.resolved import ResolvedJob
from airflow_eks_data.runs.state import Run

NAME = "toy"


@dataclass
class Ledger:
    fates: list[str] = field(default_factory=list)
    submitted: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


LEDGER = Ledger()


class ToyRenderer:
    def render(self, job: ResolvedJob) -> dict[str, Any]:
        placement = "on-demand" if job.driver_placement.capacity == "on-demand" else "spot"
        return {
            "app": job.app_name,
            "main": job.main_application_file,
            "args": list(job.arguments),
            "driver": placement,
        }

    def explain(self, job: ResolvedJob) -> Explained:
        return [(key, value, "toy") for key, value in self.render(job).items()]

    def problems(self, job: ResolvedJob, document: Mapping[str, Any], crd: str | Path | None) -> list[Problem]:
        if len(document["args"]) > 2:
            return [Problem("arguments", document["args"], "the toy queue takes at most 2 arguments")]
        return []


RENDERER = ToyRenderer()


class ToyTrigger(BaseTrigger):
    def __init__(self, name: str, fate: str, state: dict[str, Any]) -> None:
        super().__init__()
        self.name, self.fate, self.state = name, fate, state

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.ToyTrigger", {"name": self.name, "fate": self.fate, "state": self.state}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        outcome = Outcome(self.fate)
        verdict = Classification(outcome=outcome, reason=f"the toy queue says {self.fate}")
        yield TriggerEvent({"name": self.name, "state": self.state, "classification": verdict.model_dump(mode="json")})


class ToyBackend:
    can_defer = True

    def __init__(self, connections: Connections) -> None:
        self.connections = connections

    def reattach(self, job: ResolvedJob, key: str, remembered: Run | None) -> Run | None:
        return None

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        LEDGER.submitted.append({"attempt": attempt.number, **prepared.document})
        return Run(name=prepared.job.app_name, location="toy-queue", attempt=attempt.number)

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> ToyTrigger:
        return ToyTrigger(run.name, LEDGER.fates[run.attempt - 1], state)

    def cancel(self, run: Run | None) -> None:
        if run is not None:
            LEDGER.cancelled.append(run.name)

    def log_tail(self, run: Run, lines: int) -> list[str]:
        return [f"{run.name}: the last line"]

    def links(self, job: ResolvedJob, run: Run, app_id: str) -> dict[str, str | None]:
        return {"history": f"https://toy.example/{run.name}"}

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
        return {"queue": run.location}


def register_toy() -> None:
    register(Registration(NAME, f"{__name__}:RENDERER", f"{__name__}:ToyBackend", location="queue"))
