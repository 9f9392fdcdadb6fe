"""The run a task's try submitted, kept in Airflow's task state store (Airflow 3.3+) for the next try."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from airflow_eks_data.runs.state import Run

if TYPE_CHECKING:
    from airflow.sdk import Context

RUN_STATE_KEY = "airflow_eks_data.run"


def remembered_run(context: Context) -> Run | None:
    """What an earlier try stored; the previous release wrote `namespace` where this one writes `location`."""
    store = context.get("task_state_store")
    saved = store.get(RUN_STATE_KEY) if store is not None else None
    if not isinstance(saved, dict):
        return None
    location = saved.get("location", saved.get("namespace"))
    return Run(name=str(saved["name"]), location=str(location), attempt=int(str(saved["attempt"])))


def remember_run(context: Context, run: Run) -> None:
    store = context.get("task_state_store")
    if store is not None:
        store.set(RUN_STATE_KEY, run.model_dump(mode="json"), retention=timedelta(days=7))
