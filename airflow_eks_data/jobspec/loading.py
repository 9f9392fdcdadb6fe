"""Reading jobs and profiles from YAML, dicts and profile directories, with errors that name the field."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.jobspec.yaml12 import read_yaml

M = TypeVar("M", bound=BaseModel)
PROFILES_DIR_ENV = "AIRFLOW__EKS_DATA__PROFILES_DIR"
NO_AIRFLOW_CONFIG_ENV = "AIRFLOW_EKS_DATA_NO_AIRFLOW_CONFIG"
"""Set (tests do) to look for profiles without consulting Airflow's config."""


def load_model(model: type[M], data: Any, source: str | None = None) -> M:
    """Validate `data` as `model`; every problem is a `SpecError` naming `source`."""
    if not isinstance(data, dict):
        kind = "empty document" if data is None else type(data).__name__
        raise SpecError([Problem("", kind, f"a {model.__name__} is a YAML mapping of its fields")], source)
    try:
        return model.model_validate(data)
    except SpecError as exc:  # the models raise it themselves (`StrictModel`): add the file
        raise SpecError(exc.problems, source) from None


def load_model_file(model: type[M], path: str | Path) -> M:
    """Read one YAML file and validate it as `model`."""
    return load_model(model, read_yaml(path), str(path))


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """A YAML file's top-level mapping, or a `SpecError` naming the file."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        kind = "empty document" if data is None else type(data).__name__
        raise SpecError([Problem("", kind, "a YAML mapping of fields")], str(path))
    return data


def profiles_dir(explicit: str | Path | None = None) -> Path | None:
    """The profiles directory: an explicit one, else `[eks_data] profiles_dir` from the environment, else
    from Airflow's config (asked last and only here: Airflow takes a second to import, and a CLI run
    that has the directory already never imports it)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(PROFILES_DIR_ENV)
    if env:
        return Path(env)
    if os.environ.get(NO_AIRFLOW_CONFIG_ENV):
        return None
    try:
        from airflow.configuration import conf
    except ImportError:
        return None
    value = conf.get("eks_data", "profiles_dir", fallback=None)
    return Path(value) if value else None


def find_profile_file(name: str, directory: Path | None) -> Path:
    """The file of the profile called `name`, or a `SpecError` listing the profiles there are."""
    if directory is None:
        raise SpecError(
            [
                Problem(
                    "profile",
                    name,
                    f"no profiles directory: set [eks_data] profiles_dir ({PROFILES_DIR_ENV})",
                )
            ]
        )
    for suffix in (".yaml", ".yml"):
        candidate = directory / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    known = ", ".join(sorted(p.stem for p in list_profile_files(directory))) or "none"
    raise SpecError([Problem("profile", name, f"no such profile in {directory} (known: {known})")])


def list_profile_files(directory: Path) -> list[Path]:
    """Profile files of a directory, sorted by name."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def looks_like_path(ref: str) -> bool:
    """A reference with a YAML suffix or a path separator is a file, anything else a profile name."""
    return ref.endswith((".yaml", ".yml")) or os.sep in ref


def job_mapping(job: Any, dag_folder: str | Path | None = None) -> dict[str, Any]:
    """A job as the raw mapping Airflow templates (it is validated again once rendered): a `SparkJob`'s
    fields as set, a dict itself, or a YAML file (relative paths are tried from `dag_folder` too)."""
    if isinstance(job, dict):
        return job
    if isinstance(job, BaseModel):
        return job.model_dump(mode="json", exclude_unset=True)
    path = Path(job)
    if not path.is_absolute() and not path.exists() and dag_folder:
        path = Path(dag_folder) / path
    return read_yaml_mapping(path)
