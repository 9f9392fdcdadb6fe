"""Validate built-in Kubernetes objects against the OpenAPI types of the official `kubernetes` client.

The client's generated models carry the API's schema: each model's `openapi_types` (field -> type) and
`attribute_map` (field -> JSON key), and its setters refuse a missing required field. This walks a
manifest through them as an API server with strict field validation would: an unknown key, a value
of the wrong type, a missing required field or a quantity that does not parse is a problem. Names and
labels are checked against Kubernetes' own rules too (the models do not know them).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from airflow_eks_data.errors import MISSING, Problem, format_path
from airflow_eks_data.jobspec.names import DNS_LABEL, DNS_SUBDOMAIN, label_key_problem, label_value_problem

KINDS: dict[str, frozenset[str]] = {
    "v1": frozenset(
        {"Namespace", "ServiceAccount", "ConfigMap", "Secret", "Service", "Pod", "ResourceQuota", "LimitRange"}
    ),
    "rbac.authorization.k8s.io/v1": frozenset({"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}),
    "scheduling.k8s.io/v1": frozenset({"PriorityClass"}),
}
"""The built-in kinds this checks, by apiVersion: the model name alone does not say the API group."""

CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass"})

QUANTITY_MAPS = frozenset(
    {
        ("V1ResourceQuotaSpec", "hard"),
        ("V1LimitRangeItem", "max"),
        ("V1LimitRangeItem", "min"),
        ("V1LimitRangeItem", "default"),
        ("V1LimitRangeItem", "default_request"),
        ("V1LimitRangeItem", "max_limit_request_ratio"),
        ("V1ResourceRequirements", "limits"),
        ("V1ResourceRequirements", "requests"),
    }
)
"""Maps whose values are resource quantities (`4Gi`, `500m`): typed `dict[str, str]` in the client."""

_CONTAINER = re.compile(r"^(list|dict)[\[(](.*)[\])]$")
_REQUIRED = re.compile(r"Invalid value for `(\w+)`, must not be `None`")


def core_object_problems(manifest: Any) -> list[Problem]:
    """Every way `manifest` differs from what the API server accepts for its kind."""
    if not isinstance(manifest, dict):
        return [Problem("<root>", manifest, "core-object: a mapping with apiVersion and kind")]
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    kinds = KINDS.get(api_version) if isinstance(api_version, str) else None
    if kinds is None or kind not in kinds:
        known = "; ".join(f"{version}: {', '.join(sorted(names))}" for version, names in KINDS.items())
        return [Problem("kind", f"{api_version}/{kind}", f"core-object: not a built-in kind this checks ({known})")]
    version = str(api_version).rpartition("/")[2]
    problems = _walk(manifest, f"{version.capitalize()}{kind}", ())
    problems += _metadata_problems(manifest.get("metadata"), kind)
    return problems


def _walk(value: Any, type_name: str, path: tuple[Any, ...]) -> list[Problem]:
    """Problems of `value` as an instance of the client type `type_name` (`str`, `list[V1PolicyRule]`, ...)."""
    where = format_path(path) or "<root>"
    container = _CONTAINER.match(type_name)
    if container:
        outer, inner = container.groups()
        if outer == "list":
            if not isinstance(value, list):
                return [Problem(where, value, f"core-object: must be a list of {inner}")]
            return [p for index, item in enumerate(value) for p in _walk(item, inner, (*path, index))]
        value_type = inner.split(",", 1)[1].strip()
        if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
            return [Problem(where, value, "core-object: must be a mapping with string keys")]
        return [p for key, item in value.items() for p in _walk(item, value_type, (*path, key))]
    scalar = _SCALARS.get(type_name)
    if scalar is not None:
        accepted, label = scalar
        return [] if accepted(value) else [Problem(where, value, f"core-object: must be {label}")]
    return _model_problems(value, type_name, path)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SCALARS: dict[str, tuple[Any, str]] = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "int": (_is_int, "an integer"),
    "float": (lambda v: _is_int(v) or isinstance(v, float), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "datetime": (lambda v: isinstance(v, str), "an RFC 3339 time string"),
    "date": (lambda v: isinstance(v, str), "a date string"),
    "object": (lambda v: True, "anything"),
}


def _model_problems(value: Any, type_name: str, path: tuple[Any, ...]) -> list[Problem]:
    where = format_path(path) or "<root>"
    model = _model(type_name)
    if not isinstance(value, dict):
        return [Problem(where, value, f"core-object: must be a mapping ({type_name.removeprefix('V1')})")]
    by_key = {key: attr for attr, key in model.attribute_map.items()}
    problems: list[Problem] = []
    for key, item in value.items():
        attr = by_key.get(key)
        if attr is None:
            known = ", ".join(sorted(by_key))
            problems.append(Problem(format_path((*path, key)), item, f"core-object: unknown field (known: {known})"))
            continue
        if (type_name, attr) in QUANTITY_MAPS and isinstance(item, dict):
            problems += _quantity_problems(item, (*path, key))  # a quantity may also be a JSON number
        else:
            problems += _walk(item, model.openapi_types[attr], (*path, key))
    missing = _missing_required(model, {by_key[key]: item for key, item in value.items() if key in by_key})
    problems += [
        Problem(format_path((*path, model.attribute_map[attr])), MISSING, "core-object: required") for attr in missing
    ]
    return problems


def _missing_required(model: Any, given: dict[str, Any]) -> list[str]:
    """The required fields absent from `given`: the model's setters refuse None for those, one at a time."""
    from kubernetes.client import Configuration  # type: ignore[import-untyped,unused-ignore]

    supplied = dict(given)
    missing: list[str] = []
    for _ in range(len(model.openapi_types) + 1):
        try:
            model(**supplied, local_vars_configuration=Configuration())
            return missing
        except ValueError as exc:
            found = _REQUIRED.search(str(exc))
            if found is None or found.group(1) in supplied:
                return missing  # a setter's own value check: the walk reports types; nothing more to add
            missing.append(found.group(1))
            supplied[found.group(1)] = _placeholder(model.openapi_types[found.group(1)])
    return missing


def _placeholder(type_name: str) -> Any:
    return [] if type_name.startswith("list") else {} if type_name.startswith("dict") or type_name[:1] == "V" else ""


def _quantity_problems(values: dict[str, Any], path: tuple[Any, ...]) -> list[Problem]:
    from kubernetes.utils import parse_quantity  # type: ignore[import-untyped,unused-ignore]

    problems = []
    for name, quantity in values.items():
        try:
            if isinstance(quantity, bool) or not isinstance(quantity, str | int | float):
                raise TypeError(quantity)
            parse_quantity(quantity)
        except (ValueError, TypeError, ArithmeticError):
            problems.append(
                Problem(format_path((*path, name)), quantity, "core-object: a resource quantity such as 4Gi or 500m")
            )
    return problems


def _metadata_problems(metadata: Any, kind: str) -> list[Problem]:
    if not isinstance(metadata, dict):
        return [Problem("metadata", metadata if metadata is not None else MISSING, "core-object: required")]
    problems: list[Problem] = []
    name = metadata.get("name")
    label_like = kind in ("Namespace", "Service")
    if not isinstance(name, str) or not name:
        problems.append(Problem("metadata.name", name if name is not None else MISSING, "core-object: required"))
    elif label_like and (len(name) > 63 or not DNS_LABEL.match(name)):
        problems.append(Problem("metadata.name", name, "core-object: a DNS label (lowercase, digits, '-')"))
    elif not label_like and (len(name) > 253 or not DNS_SUBDOMAIN.match(name)):
        problems.append(Problem("metadata.name", name, "core-object: a DNS subdomain (lowercase, digits, '.', '-')"))
    namespace = metadata.get("namespace")
    if kind in CLUSTER_SCOPED and namespace is not None:
        problems.append(Problem("metadata.namespace", namespace, f"core-object: {kind} is cluster-scoped"))
    elif kind not in CLUSTER_SCOPED and not (isinstance(namespace, str) and DNS_LABEL.match(namespace)):
        problems.append(Problem("metadata.namespace", namespace or MISSING, "core-object: a namespace (DNS label)"))
    for key, value in (metadata.get("labels") or {}).items():
        why = label_key_problem(str(key)) or (label_value_problem(value) if isinstance(value, str) else None)
        if why:
            problems.append(Problem(format_path(("metadata", "labels", key)), value, f"core-object: {why}"))
    return problems


@functools.cache
def _model(type_name: str) -> Any:
    from kubernetes.client import models  # type: ignore[import-untyped,unused-ignore]

    return getattr(models, type_name)
