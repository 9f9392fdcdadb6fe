"""Reading jobs and profiles from YAML, dicts and profile directories, with errors that name the field."""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from airflow_eks_data.errors import MISSING, Problem, SpecError, format_path

M = TypeVar("M", bound=BaseModel)
PROFILES_DIR_ENV = "AIRFLOW__EKS_DATA__PROFILES_DIR"


def load_model(model: type[M], data: Any, source: str | None = None) -> M:
    """Validate `data` as `model`, turning every pydantic error into one `Problem`."""
    if not isinstance(data, dict):
        kind = "empty document" if data is None else type(data).__name__
        raise SpecError([Problem("", kind, f"a {model.__name__} is a YAML mapping of its fields")], source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_problem(model, err) for err in exc.errors()], source) from None


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


def read_yaml(path: str | Path) -> Any:
    """Parse one YAML file; unreadable files and YAML errors become a `SpecError` naming the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([Problem("", source, f"cannot read file: {exc.strerror}")], source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "document"
        raise SpecError([Problem(where, "<yaml>", f"not valid YAML: {getattr(exc, 'problem', exc)}")], source) from None
    except ValueError as exc:  # a scalar YAML resolves but Python cannot build: 2026-02-30, a 5,000-digit int
        raise SpecError([Problem("document", "<yaml>", f"not a usable value: {exc}")], source) from None
    return data


def _problem(model: type[BaseModel], err: Any) -> Problem:
    loc = tuple(err["loc"])
    path = format_path(loc)
    kind = err["type"]
    if kind == "missing":
        return Problem(path, MISSING, "required")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return Problem(path, err["input"], f"unknown key{hint}")
    message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = err["input"]
    field, sep, rest = message.partition(": ")
    if sep and field.isidentifier() and isinstance(value, dict):
        # A whole-model rule about one field (main_class, type): point at that field.
        return Problem(format_path((*loc, field)), value.get(field, MISSING), rest)
    return Problem(path, value, message)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking `loc` from `model` (best effort, for error hints)."""
    current: Any = model
    for item in loc:
        current = _submodel(current, item)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(info.alias or name for name, info in current.model_fields.items())
    return []


def _submodel(current: Any, item: Any) -> Any:
    if isinstance(current, type) and issubclass(current, BaseModel):
        info = current.model_fields.get(str(item))
        return _unwrap(info.annotation) if info else None
    origin = typing.get_origin(current)
    if origin in (dict, list):
        return _unwrap(typing.get_args(current)[-1])
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated so that the walk can reach nested models."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def profiles_dir(explicit: str | Path | None = None) -> Path | None:
    """The profiles directory: an explicit one, else `[eks_data] profiles_dir` from the environment.

    Airflow's own config file is consulted by the Airflow glue (see `airflow_eks_data.config`); the pure
    core only reads the environment, so the CLI starts without importing Airflow.
    """
    if explicit:
        return Path(explicit)
    env = os.environ.get(PROFILES_DIR_ENV)
    return Path(env) if env else None


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
