"""pydantic's validation errors as `Problem`s: the field's path, the value as written, and the rule."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from airflow_eks_data.errors import MISSING, Problem, format_path


def problem_of(model: type[BaseModel], err: Any) -> Problem:
    """One pydantic error (an item of `ValidationError.errors()`) of `model` as a `Problem`."""
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
