"""Values that remember their layer, so one builder serves both `render` and `explain`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_eks_data.errors import format_path
from airflow_eks_data.resolve.resolved import BUILTIN, ResolvedJob


@dataclass(frozen=True, slots=True)
class Sourced:
    """A value in a manifest under construction and the layer it came from."""

    value: Any
    origin: str


def src(job: ResolvedJob, path: str, value: Any) -> Sourced:
    """`value`, attributed to whatever layer set the setting `path` of `job`."""
    return Sourced(value, job.origin(path))


Explained = list[tuple[str, Any, str]]
"""(manifest path, value, origin) for every leaf of a rendered document."""


def split(tree: Any, explain: bool = False) -> tuple[Any, Explained]:
    """The plain document, and (when `explain`) every leaf's path, value and origin."""
    out: Explained = []
    plain = _split(tree, (), BUILTIN, out if explain else None)
    return plain, out


def _split(node: Any, path: tuple[Any, ...], origin: str, out: Explained | None) -> Any:
    if isinstance(node, Sourced):
        origin, node = node.origin, node.value
    if isinstance(node, dict):
        return {key: _split(value, (*path, key), origin, out) for key, value in node.items()}
    if isinstance(node, list):
        return [_split(value, (*path, index), origin, out) for index, value in enumerate(node)]
    if out is not None:
        out.append((format_path(path), node, origin))
    return node
