"""Validate a StartJobRun request against botocore's installed service model (emr-containers for EMR on
EKS, emr-serverless for EMR Serverless).

botocore's own validator checks types, required members and minimums; the service also enforces
maximum lengths and patterns, so those are checked here from the same model.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from airflow_eks_data.errors import Problem, format_path


def emr_request_problems(request: dict[str, Any]) -> list[Problem]:
    """Problems of an EMR on EKS (emr-containers) `StartJobRun` request."""
    return request_problems("emr-containers", "StartJobRun", request)


def emr_serverless_request_problems(request: dict[str, Any]) -> list[Problem]:
    """Problems of an EMR Serverless `StartJobRun` request."""
    return request_problems("emr-serverless", "StartJobRun", request)


def request_problems(service: str, operation: str, request: dict[str, Any]) -> list[Problem]:
    """Problems botocore would report, plus the model's max/pattern constraints."""
    from botocore.validate import ParamValidator

    shape = _input_shape(service, operation)
    report = ParamValidator().validate(request, shape)
    problems = [Problem("request", None, f"botocore: {line.strip()}") for line in _report_lines(report)]
    _constraints(request, shape, (), problems)
    return problems


@functools.lru_cache(maxsize=8)
def _input_shape(service: str, operation: str) -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).input_shape


def _report_lines(report: Any) -> list[str]:
    if not report.has_errors():
        return []
    return [line for line in report.generate_report().splitlines() if line.strip()]


def _constraints(value: Any, shape: Any, path: tuple[Any, ...], problems: list[Problem]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    where = format_path(path) or "request"
    if kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(Problem(where, value, f"emr-limit: at most {meta['max']} characters"))
        pattern = meta.get("pattern")
        if pattern and not _compiled(pattern).fullmatch(value):
            problems.append(Problem(where, value, f"emr-limit: must match {pattern}"))
    elif kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _constraints(value[name], member, (*path, name), problems)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(Problem(where, len(value), f"emr-limit: at most {meta['max']} entries"))
        for index, item in enumerate(value):
            _constraints(item, shape.member, (*path, index), problems)
    elif kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(Problem(where, len(value), f"emr-limit: at most {meta['max']} entries"))
        for key, item in value.items():
            _constraints(key, shape.key, (*path, key), problems)
            _constraints(item, shape.value, (*path, key), problems)


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)
