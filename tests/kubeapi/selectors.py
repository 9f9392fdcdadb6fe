"""Label and field selectors, parsed the way the API server parses them.

Clients pass selectors as strings (``labelSelector=a=b,c in (x,y)``); the server must filter lists
and watches with them, or a test that looks for ``spark-role=driver`` silently sees executors too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.kubeapi.errors import ApiError

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_./-]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*$")


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector: ``key op values``."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        # "!=" and "notin" match objects that lack the key, as the API server does.
        return not present or value not in self.values


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside ``(...)``."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in (part.strip() for part in parts) if p]


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse a label selector string; an empty selector matches everything."""
    if not text:
        return []
    requirements: list[Requirement] = []
    for clause in _split_top_level(text):
        if m := _SET_RE.match(clause):
            values = frozenset(v.strip() for v in m.group(4).split(",") if v.strip())
            requirements.append(Requirement(m.group(2), m.group(3), values))
        elif m := _EQ_RE.match(clause):
            op = "!=" if m.group(2) == "!=" else "="
            requirements.append(Requirement(m.group(1), op, frozenset({m.group(3)})))
        elif m := _EXISTS_RE.match(clause):
            requirements.append(Requirement(m.group(2), "!exists" if m.group(1) else "exists", frozenset()))
        else:
            raise ApiError.bad_request(f"unable to parse requirement: {clause!r}")
    return requirements


def _lookup(obj: Mapping[str, Any], path: str) -> str | None:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    if node is None:
        return None
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


@dataclass(frozen=True)
class FieldRequirement:
    """One clause of a field selector; only equality and inequality exist for fields."""

    path: str
    equal: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = _lookup(obj, self.path)
        # A missing field compares as the empty string, as the server's field sets do.
        return ((actual or "") == self.value) == self.equal


def parse_field_selector(text: str | None) -> list[FieldRequirement]:
    """Parse a field selector (``metadata.name=x,involvedObject.kind=Pod,status.phase!=Failed``)."""
    if not text:
        return []
    out: list[FieldRequirement] = []
    for clause in _split_top_level(text):
        m = _EQ_RE.match(clause)
        if not m:
            raise ApiError.bad_request(f"invalid selector: {clause!r}; can't understand '{clause}'")
        out.append(FieldRequirement(m.group(1), m.group(2) != "!=", m.group(3)))
    return out


Matcher = Callable[[Mapping[str, Any]], bool]


def selected_name(field_selector: str | None) -> str | None:
    """The name a ``metadata.name=`` field selector pins, so watches can be indexed by name."""
    for req in parse_field_selector(field_selector):
        if req.path == "metadata.name" and req.equal:
            return req.value
    return None


def make_matcher(label_selector: str | None, field_selector: str | None) -> Matcher:
    """Return one predicate for both selectors, parsed once (watchers call it per event)."""
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(field_selector)

    def match(obj: Mapping[str, Any]) -> bool:
        obj_labels = obj.get("metadata", {}).get("labels") or {}
        return all(r.matches(obj_labels) for r in labels) and all(f.matches(obj) for f in fields)

    return match
