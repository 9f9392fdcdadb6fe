"""Register a job's credential-like values with Airflow's secret masker before anything is logged."""

from __future__ import annotations

from typing import Any


def mask_job_secrets(job: dict[str, Any]) -> None:
    """Mask every credential-like value of `job` (a raw SparkJob mapping) in logs, rendered fields and XCom."""
