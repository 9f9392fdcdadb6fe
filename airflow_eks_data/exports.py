"""Lazy exports for the package and its subpackages: a name is imported on first use, so that
`import airflow_eks_data.operators` (which Airflow's provider discovery and users' DAG files do) costs
no more than the modules a DAG really uses."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` serving `exports` (name -> module) for `package`."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
