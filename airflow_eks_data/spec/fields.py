"""Annotated field types shared by the job spec and the profile."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from airflow_eks_data.spec.names import label_key_problem, label_value_problem
from airflow_eks_data.spec.quantities import duration_seconds, spark_memory


class StrictModel(BaseModel):
    """Unknown keys are an error, never silently dropped; models are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _scalar_to_str(value: Any) -> Any:
    """YAML turns `true` and `100` into bool and int; Spark conf and env values are strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _string_map(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _scalar_to_str(item) for key, item in value.items()}
    return value


def _string_list(value: Any) -> Any:
    if isinstance(value, list):
        return [_scalar_to_str(item) for item in value]
    return value


def _memory(value: Any) -> Any:
    return spark_memory(value) if isinstance(value, str) else value


def _duration(value: Any) -> Any:
    return duration_seconds(value) if isinstance(value, int | str) else value


def _no_nul(value: Any) -> Any:
    """No process can receive a NUL in an argument or environment value: refuse it before submission."""
    items = [*value.items()] if isinstance(value, dict) else [(None, item) for item in value]
    for key, item in items:
        if "\x00" in item or (key and "\x00" in key):
            raise ValueError(f"{key or item!r}: NUL characters cannot reach a process")
    return value


def _labels(value: dict[str, str]) -> dict[str, str]:
    for key, item in value.items():
        problem = label_key_problem(key) or label_value_problem(item)
        if problem:
            raise ValueError(f"{key}={item!r}: {problem}")
    return value


Memory = Annotated[str, BeforeValidator(_memory)]
"""A memory quantity (`4g`, `4096m`, `4Gi`), stored in Spark's spelling."""
Seconds = Annotated[int, BeforeValidator(_duration)]
"""A duration in whole seconds (`3600`, `1h`, `15m`)."""
StringMap = Annotated[dict[str, str], BeforeValidator(_string_map), AfterValidator(_no_nul)]
StringList = Annotated[list[str], BeforeValidator(_string_list), AfterValidator(_no_nul)]
Labels = Annotated[dict[str, str], BeforeValidator(_string_map), AfterValidator(_labels)]
