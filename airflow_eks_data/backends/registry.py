"""The backends a job can run on, by name: the only place a backend is tied to its code.

Each entry names its renderer (pure: the document, its explanation, its own checks) and its runner
(the Airflow side: submit, reattach, wait, cancel, logs, links) as `module:attribute` paths, so that
the CLI and DAG parsing load neither the runners nor any cloud client. Adding a backend is one
`register()` call; see docs/architecture.md.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.targets import DASHED, Target

if TYPE_CHECKING:
    from airflow_eks_data.backends.base import Backend, Connections
    from airflow_eks_data.render.sourced import Explained
    from airflow_eks_data.resolve.resolved import ResolvedJob


class Renderer(Protocol):
    """What a backend makes of a resolved job, with no I/O."""

    def render(self, job: ResolvedJob) -> dict[str, Any]:
        """The document submitted (or printed by `eks-data render`)."""

    def explain(self, job: ResolvedJob) -> Explained:
        """Every rendered value with the layer that set it."""

    def problems(self, job: ResolvedJob, document: Mapping[str, Any], crd: str | Path | None) -> list[Problem]:
        """The backend's own checks of `document` (an API model, a CRD schema), beyond the shared ones."""


@dataclass(frozen=True)
class Registration:
    name: str
    renderer: str
    """`module:attribute` of a `Renderer` instance."""
    runner: str
    """`module:attribute` of a class implementing `backends.base.Backend`."""
    location: str = "namespace"
    """What a run's `location` is on this backend, for messages: a namespace, a virtual cluster, ..."""
    remote: bool = True
    """Code runs away from this machine, so local paths (`file://`, `/tmp/x.py`) are refused."""

    def load_renderer(self) -> Renderer:
        renderer: Renderer = _load(self.renderer)
        return renderer

    def runner_for(self, connections: Connections) -> Backend:
        backend: Backend = _load(self.runner)(connections)
        return backend


_REGISTRY: dict[str, Registration] = {}


def register(registration: Registration) -> None:
    """Add (or replace) a backend; its name becomes valid for profiles, the operator and the CLI."""
    _REGISTRY[registration.name] = registration


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def backend_name(name: str) -> str:
    """The registered backend called `name` (a `Target` for the built-in ones); the CLI's first,
    dashed spelling still works with a `DeprecationWarning`."""
    normal = name.strip().lower()
    if normal in DASHED:
        warnings.warn(
            f"backend {name!r} is deprecated: write {DASHED[normal].value!r}", DeprecationWarning, stacklevel=2
        )
        return DASHED[normal]
    if normal not in _REGISTRY:
        raise SpecError([Problem("backend", name, f"one of {', '.join(_REGISTRY)}")])
    return Target(normal) if normal in Target._value2member_map_ else normal


def registration(name: str) -> Registration:
    return _REGISTRY[backend_name(name)]


def _load(path: str) -> Any:
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


for _registration in (
    Registration(
        Target.SPARK_OPERATOR,
        "airflow_eks_data.render.renderers:SPARK_APPLICATION",
        "airflow_eks_data.backends.spark_operator:SparkOperatorBackend",
    ),
    Registration(
        Target.EMR_ON_EKS,
        "airflow_eks_data.render.renderers:EMR_JOB_RUN",
        "airflow_eks_data.backends.emr_on_eks:EmrOnEksBackend",
        location="virtual cluster",
    ),
    Registration(
        Target.EMR_SERVERLESS,
        "airflow_eks_data.render.renderers:EMR_SERVERLESS_JOB_RUN",
        "airflow_eks_data.backends.emr_serverless:EmrServerlessBackend",
        location="application",
    ),
    Registration(
        Target.LOCAL,
        "airflow_eks_data.render.renderers:SPARK_SUBMIT",
        "airflow_eks_data.backends.local:LocalBackend",
        location="host",
        remote=False,
    ),
):
    register(_registration)
