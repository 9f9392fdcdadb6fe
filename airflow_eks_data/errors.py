"""The one error type a wrong spec raises, so callers never have to catch pydantic, YAML or KeyError."""

from __future__ import annotations

import reprlib
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
        # Messages reach logs, task failures and the CLI: credentials are masked before anything is shown
        # (and before truncation, which could otherwise leave part of one).
        from airflow_eks_data.masking import mask_shapes, masked_value

        shown = "<missing>" if self.value is MISSING else _short_repr(masked_value(self.path, self.value))
        if len(shown) > 120:
            shown = shown[:117] + "..."
        return f"{mask_shapes(self.path) or '<root>'}: {shown}: {mask_shapes(self.rule)}"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple = 3, 6, 6, 6
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 240


def _short_repr(value: Any) -> str:
    """A repr whose size does not grow with the value: YAML aliases can nest a list in itself, or make
    a few lines stand for billions of items."""
    try:
        return _REPR.repr(value)
    except ValueError:  # an integer with more digits than Python prints
        return f"<{type(value).__name__} too large to show>"


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
