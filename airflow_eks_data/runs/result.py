"""The task's XCom result: what ran, where, how it ended, what it cost."""

from __future__ import annotations

from typing import Any

from airflow_eks_data.observability.cost import estimate
from airflow_eks_data.observability.usage import Usage
from airflow_eks_data.outcomes import outcome_summary
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.runs.state import Run, RunState


def xcom_result(
    state: RunState, run: Run, last_state: str | None, job: ResolvedJob, now: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """`extra` holds the backend's own fields (ids, log locations) and the links."""
    cost = estimate(job, [Usage(**usage) for usage in state.usage], job.profile.cost)
    return {
        "backend": str(state.backend),
        "name": run.name,
        "location": run.location,
        "tenant": job.tenant_name,
        "job": job.job_name,
        "state": last_state,
        "inputs": job.inputs,
        "outputs": job.outputs,
        **outcome_summary(list(state.records)),
        "duration_s": round(now - state.started_at, 3),
        "cost": cost.to_dict() if cost else None,
        **extra,
    }
