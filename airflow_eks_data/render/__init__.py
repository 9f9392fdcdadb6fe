"""Render a resolved job for one backend: a SparkApplication, an EMR StartJobRun request, or spark-submit."""

from __future__ import annotations

from typing import Any

from airflow_eks_data.backends.registry import backend_name, registration
from airflow_eks_data.render.sourced import Explained
from airflow_eks_data.resolve.resolved import ResolvedJob
from airflow_eks_data.targets import TARGETS, Target


def render(job: ResolvedJob, target: str) -> dict[str, Any]:
    """The rendered document for `target`, as the CLI prints it."""
    return registration(target).load_renderer().render(job)


def explain(job: ResolvedJob, target: str) -> Explained:
    """Every rendered value for `target` with the layer that set it."""
    return registration(target).load_renderer().explain(job)


__all__ = ["TARGETS", "Target", "backend_name", "explain", "render"]
