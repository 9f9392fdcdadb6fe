"""Register a job's credential-like values with Airflow's secret masker before anything is logged."""

from __future__ import annotations

from typing import Any

from airflow_eks_data.jobspec.names import is_templated
from airflow_eks_data.masking import find_secrets, is_sensitive_name


def mask_job_secrets(job: dict[str, Any]) -> None:
    """Mask every credential-like value of `job` (a raw SparkJob mapping) in logs, rendered fields and XCom.

    A key is sensitive when Airflow's masker says so (its default names plus `[core]
    sensitive_var_conn_names`) or when it is a Spark/Hadoop spelling of one; values shaped like AWS
    credentials are masked whatever their key. Each value is registered without its key name, so that
    Airflow masks it as given, in this process and (through the supervisor) in the task log.
    """
    from airflow.sdk._shared.secrets_masker import should_hide_value_for_key
    from airflow.sdk.log import mask_secret

    def sensitive(name: str) -> bool:
        return bool(should_hide_value_for_key(name)) or is_sensitive_name(name)  # type: ignore[no-untyped-call]

    for secret in find_secrets(job, sensitive):
        if not is_templated(secret.value):  # rendered at run time, and masked then
            mask_secret(secret.value)
