"""Merge a job with its profile under the tenant's guardrails."""

from airflow_eks_data.resolve.resolved import ResolvedJob, RunAdditions
from airflow_eks_data.resolve.resolver import resolve

__all__ = ["ResolvedJob", "RunAdditions", "resolve"]
