"""Layered merge of job settings that remembers which layer set every value.

Rules: mappings (spark_conf, labels, env, driver, ...) merge key by key and the later layer wins; lists
replace as a whole, except tolerations, which merge by (key, effect); `None` means "not set here".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_eks_data.errors import format_path
from airflow_eks_data.jobspec.settings import JobSettings

SETTING_FIELDS = set(JobSettings.model_fields)

Origins = dict[str, str]


def merge_settings(layers: Iterable[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], Origins]:
    """Merge `(layer name, settings dict)` pairs in order; return the result and the origin of every leaf."""
    merged: dict[str, Any] = {}
    origins: Origins = {}
    for layer, data in layers:
        _merge_into(merged, data, (), layer, origins)
    return merged, origins


def layer_dict(settings: JobSettings) -> dict[str, Any]:
    """The job-settings part of a model (job, tenant or profile), without unset values."""
    return settings.model_dump(include=SETTING_FIELDS, exclude_none=True)


def _merge_into(
    target: dict[str, Any], data: dict[str, Any], prefix: tuple[str, ...], layer: str, origins: Origins
) -> None:
    for key, value in data.items():
        path = (*prefix, key)
        if isinstance(value, dict):
            child = target.get(key)
            if not isinstance(child, dict):
                child = target[key] = {}
            _merge_into(child, value, path, layer, origins)
            continue
        # Models give every field one type, so a leaf never replaces a mapping (or the reverse).
        target[key] = value
        origins[format_path(path)] = layer


def merge_tolerations(*layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tolerations of all layers; a later one with the same key and effect replaces an earlier one."""
    by_key: dict[tuple[Any, Any], dict[str, Any]] = {}
    for layer in layers:
        for toleration in layer:
            by_key[(toleration.get("key"), toleration.get("effect"))] = toleration
    return list(by_key.values())
