"""Checks of rendered output before anything is submitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_eks_data.errors import Problem
from airflow_eks_data.resolve.guardrails import local_file_problems, locations
from airflow_eks_data.resolve.resolved import ResolvedJob
from airflow_eks_data.targets import Target
from airflow_eks_data.validate.security import pod_security_problems


def rendered_problems(
    job: ResolvedJob, target: Target, document: dict[str, Any], crd: str | Path | None = None
) -> list[Problem]:
    """Pod security and where code lives always; botocore's model for EMR; the CRD schema for a
    SparkApplication when given."""
    allowed = [job.nvme.host_path] if job.nvme else []
    problems = pod_security_problems(document, allowed)
    if target is not Target.LOCAL:
        problems += local_file_problems(locations(job))
    if target is Target.EMR_ON_EKS:
        from airflow_eks_data.validate.emr import emr_request_problems

        problems += emr_request_problems(document["request"])
    elif target is Target.SPARK_OPERATOR and crd:
        from airflow_eks_data.validate.crd import crd_problems

        problems += crd_problems(document, crd)
    return problems


__all__ = ["rendered_problems"]
