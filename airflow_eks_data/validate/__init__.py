"""Checks of rendered output before anything is submitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_eks_data.backends.registry import registration
from airflow_eks_data.errors import Problem
from airflow_eks_data.resolve.guardrails import local_file_problems, locations
from airflow_eks_data.resolve.resolved import ResolvedJob
from airflow_eks_data.validate.security import pod_security_problems


def rendered_problems(
    job: ResolvedJob, target: str, document: dict[str, Any], crd: str | Path | None = None
) -> list[Problem]:
    """Pod security and where code lives, for every backend; then the backend's own checks."""
    backend = registration(target)
    allowed = [job.nvme.host_path] if job.nvme else []
    problems = pod_security_problems(document, allowed)
    if backend.remote:
        problems += local_file_problems(locations(job))
    return problems + backend.load_renderer().problems(job, document, crd)


__all__ = ["rendered_problems"]
