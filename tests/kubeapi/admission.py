"""Optional admission against the pinned SparkApplication CRD: validate (422) and prune.

A real API server rejects a SparkApplication that breaks the CRD's structural schema with 422 and
``causes``, and silently drops unknown fields (with a ``Warning`` header). Rendering bugs in the
provider show up only if the test server does the same.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.kubeapi.errors import ApiError

_META_KEYS = frozenset({"apiVersion", "kind", "metadata"})


def _field_path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _cause(error: jsonschema.ValidationError) -> dict[str, str]:
    path = _field_path(error.absolute_path)
    if error.validator == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        missing = [p for p in required if p not in instance]
        field = f"{path}.{missing[0]}" if path and missing else (missing[0] if missing else path)
        return {"reason": "FieldValueRequired", "message": "Required value", "field": field}
    if error.validator == "enum":
        supported = ", ".join(json.dumps(v) for v in error.validator_value)  # type: ignore[union-attr]
        message = f"Unsupported value: {json.dumps(error.instance)}: supported values: {supported}"
        return {"reason": "FieldValueNotSupported", "message": message, "field": path}
    if error.validator == "type":
        message = (
            f"Invalid value: {json.dumps(type(error.instance).__name__)}: "
            f"{path} in body must be of type {error.validator_value}: {json.dumps(error.instance)}"
        )
        return {"reason": "FieldValueTypeInvalid", "message": message, "field": path}
    message = f"Invalid value: {json.dumps(error.instance)}: {path} in body {error.message}"
    return {"reason": "FieldValueInvalid", "message": message, "field": path}


@dataclass
class CrdAdmission:
    """Validation and pruning for one CRD version."""

    kind: str
    group: str
    plural: str
    schema: dict[str, Any]

    @classmethod
    def load(cls, path: Path, version: str = "v1beta2") -> CrdAdmission:
        """Parse the CRD (cached: the YAML is 12k lines, and each test starts a server)."""
        return _load(path.resolve(), version)

    @classmethod
    def _parse(cls, path: Path, version: str) -> CrdAdmission:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        crd = yaml.load(path.read_text(), Loader=loader)
        for entry in crd["spec"]["versions"]:
            if entry["name"] == version:
                return cls(
                    crd["spec"]["names"]["kind"],
                    crd["spec"]["group"],
                    crd["spec"]["names"]["plural"],
                    entry["schema"]["openAPIV3Schema"],
                )
        raise ValueError(f"{path} has no version {version}")

    def __post_init__(self) -> None:
        self._validator = jsonschema.Draft7Validator(self.schema)

    def admit(self, obj: dict[str, Any], strict: bool = False) -> list[str]:
        """Prune unknown fields in place and validate; return the API server's warnings.

        Raises 400 for unknown fields under ``fieldValidation=Strict`` (decoding comes first, as
        on a real server), then a 422 ``Invalid`` ApiError with one cause per schema violation.
        """
        removed: list[str] = []
        for key in [k for k in obj if k not in _META_KEYS]:
            sub = self.schema.get("properties", {}).get(key)
            if sub is None:
                removed.append(key)
                del obj[key]
            else:
                _prune(obj[key], sub, key, removed)
        if strict and removed:
            fields = ", ".join(f'unknown field "{path}"' for path in removed)
            raise ApiError.bad_request(f"strict decoding error: {fields}")
        errors = sorted(self._validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            causes = [_cause(e) for e in errors]
            name = obj.get("metadata", {}).get("name", "")
            summary = ", ".join(f"{c['field']}: {c['message']}" for c in causes)
            if len(causes) > 1:
                summary = f"[{summary}]"
            raise ApiError(
                422,
                f'{self.kind}.{self.group} "{name}" is invalid: {summary}',
                details={"name": name, "group": self.group, "kind": self.kind, "causes": causes},
            )
        return [f'299 - "unknown field \\"{path}\\""' for path in removed]


@functools.lru_cache(maxsize=4)
def _load(path: Path, version: str) -> CrdAdmission:
    return CrdAdmission._parse(path, version)


def _prune(value: Any, schema: dict[str, Any], path: str, removed: list[str]) -> None:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        if props is not None:
            for key in list(value):
                if key in props:
                    _prune(value[key], props[key], f"{path}.{key}", removed)
                else:
                    removed.append(f"{path}.{key}")
                    del value[key]
        elif isinstance(additional, dict):
            for key, item in value.items():
                _prune(item, additional, f"{path}[{key}]", removed)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _prune(item, schema["items"], f"{path}[{index}]", removed)
