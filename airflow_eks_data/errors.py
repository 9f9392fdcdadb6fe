"""The one error type a wrong spec raises, so callers never have to catch pydantic, YAML or KeyError."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where, what was given, and what the rule allows."""

    path: str
    value: Any
    rule: str

    def __str__(self) -> str:
        shown = "<missing>" if self.value is MISSING else repr(self.value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        return f"{self.path or '<root>'}: {shown}: {self.rule}"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""Placeholder value for a problem about a key that is absent."""


def format_path(parts: Iterable[object]) -> str:
    """`executor.memory`, `spark_conf[spark.local.dir]`, `arguments[2]`: keys with dots get brackets."""
    out: list[str] = []
    for part in parts:
        text = str(part)
        if isinstance(part, int) or "." in text or "/" in text:
            out.append(f"[{text}]")
        else:
            out.append(("." if out else "") + text)
    return "".join(out)


class SpecError(ValueError):
    """A job, profile or rendered request that must not reach a cluster.

    Subclasses ValueError so that Airflow reports it as a DAG import error when raised at parse time.
    """

    def __init__(self, problems: Iterable[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        """One line per problem, prefixed with the source file when known (the CLI prints these)."""
        head = f"{self.source}: " if self.source else ""
        return [head + str(p) for p in self.problems]
