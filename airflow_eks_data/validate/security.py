"""A last scan of rendered output for what no tenant may run, whatever path it came in by."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_eks_data.errors import Problem, format_path

_FORBIDDEN_TRUE = {
    "privileged": "no-privileged: privileged containers are not allowed",
    "allowPrivilegeEscalation": "no-privileged: privilege escalation is not allowed",
    "hostNetwork": "no-host-network: host networking is not allowed",
    "hostPID": "no-host-namespaces: host PID namespace is not allowed",
    "hostIPC": "no-host-namespaces: host IPC namespace is not allowed",
}


def pod_security_problems(document: Any, allowed_host_paths: Iterable[str]) -> list[Problem]:
    """Privileged or host-namespace settings, host ports, added capabilities, and hostPath volumes other than
    the profile's local storage."""
    allowed = set(allowed_host_paths)
    problems: list[Problem] = []
    _scan(document, (), allowed, problems)
    return problems


def _scan(node: Any, path: tuple[Any, ...], allowed: set[str], problems: list[Problem]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if key in _FORBIDDEN_TRUE and value is True:
                problems.append(Problem(format_path(here), value, _FORBIDDEN_TRUE[key]))
            elif key == "hostPort" and value not in (None, 0):
                problems.append(Problem(format_path(here), value, "no-host-port: pods may not bind node ports"))
            elif key == "capabilities" and isinstance(value, dict) and value.get("add"):
                problems.append(
                    Problem(format_path((*here, "add")), value["add"], "no-capabilities: no Linux capabilities added")
                )
            elif key == "hostPath" and isinstance(value, dict) and value.get("path") not in allowed:
                problems.append(
                    Problem(format_path(here), value.get("path"), "no-host-path: only the profile's local storage")
                )
            elif (
                isinstance(key, str)
                and ".volumes.hostPath." in key
                and key.endswith(".options.path")
                and value not in allowed
            ):
                problems.append(Problem(format_path(here), value, "no-host-path: only the profile's local storage"))
            else:
                _scan(value, here, allowed, problems)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _scan(item, (*path, index), allowed, problems)
