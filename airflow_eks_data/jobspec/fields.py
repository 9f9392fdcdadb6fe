"""Annotated field types shared by the job spec and the profile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core.core_schema import ValidationInfo
from typing_extensions import Self

from airflow_eks_data.jobspec import grammar
from airflow_eks_data.jobspec.names import label_key_problem, label_value_problem
from airflow_eks_data.jobspec.quantities import duration_seconds, memory_kib

MAX_SECONDS = 30 * 24 * 3600
"""Longer than any batch job, and small enough for every timer and timestamp it reaches."""


class StrictModel(BaseModel):
    """Unknown keys are an error, never silently dropped; models are immutable once loaded.

    However a model is built (from YAML, a dict, or `SparkJob(...)` in a DAG file), a wrong value raises
    `SpecError` naming the field, never pydantic's own error type. No string anywhere may hold a control
    character, except the fields listed in `free_text` (a program's own arguments).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)
    free_text: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _spec_error(type(self), exc) from None

    # Validation itself stays pydantic's (as RootModel does): nested models are not built through this
    # `__init__`, so their errors keep their place in the outer model's error list.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _spec_error(cls, exc) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> Self:
        """Load and validate a YAML file; any problem raises `SpecError` naming the file."""
        from airflow_eks_data.jobspec.loading import load_model_file

        return load_model_file(cls, path)

    @classmethod
    def from_dict(cls, data: Any, source: str | None = None) -> Self:
        """Validate a mapping; any problem raises `SpecError`."""
        from airflow_eks_data.jobspec.loading import load_model

        return load_model(cls, data, source)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        free = info.field_name in cls.free_text
        for text in _strings(value):
            char = grammar.control_character(text, free_text=free)
            if char is not None:
                raise ValueError(
                    f"control-character: {text!r} holds U+{ord(char):04X}; no NUL, line break or bidi control"
                )
        return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [item for pair in value.items() for part in pair for item in _strings(part)]
    if isinstance(value, list | tuple):
        return [item for part in value for item in _strings(part)]
    return []


def _spec_error(model: type[BaseModel], exc: ValidationError) -> Exception:
    from airflow_eks_data.errors import SpecError
    from airflow_eks_data.jobspec.problems import problem_of

    return SpecError([problem_of(model, err) for err in exc.errors()])


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
    """Checked, but kept as written, so that a message shows `70000Mi` as the user wrote it."""
    if isinstance(value, str):
        memory_kib(value)
        return value.strip()
    return value


def _duration(value: Any) -> Any:
    return duration_seconds(value) if isinstance(value, int | str) else value


def _grammar(check: Callable[[str], str | None]) -> AfterValidator:
    def validate(value: str) -> str:
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


def _labels(value: dict[str, str]) -> dict[str, str]:
    for key, item in value.items():
        problem = label_key_problem(key) or label_value_problem(item)
        if problem:
            raise ValueError(f"{key}={item!r}: {problem}")
    return value


Memory = Annotated[str, BeforeValidator(_memory)]
"""A memory quantity (`4g`, `4096m`, `4Gi`), kept as written; `spark_memory` gives Spark's spelling."""
Seconds = Annotated[int, BeforeValidator(_duration), Field(le=MAX_SECONDS)]
"""A duration in whole seconds (`3600`, `1h`, `15m`), at most 30 days."""
StringMap = Annotated[dict[str, str], BeforeValidator(_string_map)]
StringList = Annotated[list[str], BeforeValidator(_string_list)]
Labels = Annotated[dict[str, str], BeforeValidator(_string_map), AfterValidator(_labels)]
Uri = Annotated[str, _grammar(grammar.uri_problem)]
"""A main file or dependency: a URI with an allowed scheme, never something spark-submit reads as an option."""
DatasetUri = Annotated[str, _grammar(grammar.dataset_uri_problem)]
JavaName = Annotated[str, _grammar(grammar.java_name_problem)]
MavenCoordinate = Annotated[str, _grammar(grammar.maven_problem)]
RepositoryUrl = Annotated[str, _grammar(grammar.repository_problem)]
ImageRef = Annotated[str, _grammar(grammar.image_problem)]
SparkVersion = Annotated[str, _grammar(grammar.spark_version_problem)]
