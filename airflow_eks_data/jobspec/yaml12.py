"""Reading YAML as the YAML 1.2 core schema does, within limits: every bad file is a `SpecError`.

PyYAML reads YAML 1.1, where `NO` is false and `0042` is 34. Job and profile files are read as YAML 1.2
instead, the one ambiguous form left (a number with a leading zero) is refused, and the bytes, the size,
the nesting and alias expansion are checked before any Python object is built.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Any

import yaml

from airflow_eks_data.errors import Problem, SpecError

MAX_FILE_BYTES = 1024 * 1024
"""Job and profile files are a few kilobytes; anything near a mebibyte is a mistake or an attack."""
MAX_DEPTH = 64
"""Nesting (counted in collections, through aliases) that no spec needs and that keeps every recursive
consumer (construction, pydantic, repr, JSON) far from Python's recursion limit."""
MAX_NODES = 100_000
"""Values in the document with every alias expanded: a few anchors can otherwise stand for billions."""


def read_yaml(path: str | Path) -> Any:
    """Parse one YAML file with YAML 1.2 core-schema scalars; every bad input becomes a `SpecError` naming
    the file (unreadable, too large, not UTF-8, invalid or ambiguous YAML, too deep, too many aliases)."""
    source = str(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
            size = os.fstat(stream.fileno()).st_size
    except OSError as exc:
        raise SpecError([Problem("", source, f"cannot read file: {exc.strerror}")], source) from None
    try:
        return _parse(raw, size)
    except _Refusal as refusal:
        raise SpecError([refusal.problem], source) from None


def _parse(raw: bytes, size: int) -> Any:
    """The data of one file's bytes (`size` is the file's, `raw` at most one byte over the limit)."""
    text = _decode(raw, size)
    loader: _Yaml12Loader | None = None
    try:
        loader = _Yaml12Loader(text)  # checks the characters already
        return loader.get_single_data()
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else 0
        rule = f"not valid YAML: control character U+{char:04X} is not allowed (write it as an escape in double quotes)"
        raise _Refusal(Problem(_line_at(text, exc.position), chr(char), rule)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "document"
        raise _Refusal(Problem(where, "<yaml>", f"not valid YAML: {getattr(exc, 'problem', exc)}")) from None
    except ValueError as exc:  # a scalar YAML resolves but Python cannot build (a 5,000-digit int)
        raise _Refusal(Problem("document", "<yaml>", f"not a usable value: {exc}")) from None
    except RecursionError:  # the depth limit should make this unreachable; never let it become a traceback
        raise _Refusal(Problem("document", "<yaml>", _DEPTH_RULE)) from None
    finally:
        if loader is not None:
            loader.dispose()


class _Refusal(Exception):
    """One problem found while reading; not a ValueError, so PyYAML's constructors cannot swallow it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


_DEPTH_RULE = f"nested deeper than {MAX_DEPTH} levels"
_UTF8_HINT = "save the file as UTF-8"
_BOMS = (  # longest first: the UTF-32LE mark starts with the UTF-16LE one
    (codecs.BOM_UTF32_LE, "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "UTF-32BE"),
    (codecs.BOM_UTF16_LE, "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "UTF-16BE"),
)


def _decode(raw: bytes, size: int) -> str:
    """UTF-8 text of the file, without its optional UTF-8 byte-order mark."""
    if len(raw) > MAX_FILE_BYTES:  # the size a pipe or device reports is no use: say "more than"
        shown = f"{size:,} bytes" if size > MAX_FILE_BYTES else f"more than {MAX_FILE_BYTES:,} bytes"
        rule = f"file too large: {shown}, the limit is {MAX_FILE_BYTES:,} bytes (1 MiB)"
        raise _Refusal(Problem("document", shown, rule))
    for bom, name in _BOMS:
        if raw.startswith(bom):
            rule = f"not UTF-8 text (looks like {name}: it starts with the byte-order mark {bom.hex(' ').upper()})"
            raise _Refusal(Problem("document", bom, f"{rule}: {_UTF8_HINT}"))
    nul = raw.find(b"\0")
    if nul >= 0:
        rule = f"not UTF-8 text ({_nul_guess(raw, nul)}): {_UTF8_HINT}"
        line = raw.count(b"\n", 0, nul) + 1
        raise _Refusal(Problem(f"line {line}", b"\0", rule))
    try:
        return raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        rule = f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02X} at offset {exc.start}, line {line})"
        raise _Refusal(Problem(f"line {line}", raw[exc.start : exc.end], f"{rule}: {_UTF8_HINT}")) from None


def _nul_guess(raw: bytes, first: int) -> str:
    """Text in UTF-16 without a byte-order mark has a NUL in every other byte (ASCII characters)."""
    sample = raw[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if even + odd >= len(sample) // 4:
        name = "UTF-16LE" if even == 0 else "UTF-16BE" if odd == 0 else "UTF-16 or UTF-32"
        return f"looks like {name} without a byte-order mark"
    return f"a NUL byte at offset {first}"


def _line_at(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    return f"line {line}"


def _line(mark: Any) -> str:
    """`line N` of a PyYAML mark (pure-Python or libyaml's), `document` without one."""
    return f"line {mark.line + 1}" if mark else "document"


def _snippet(mark: Any) -> str:
    """The text at a mark as the user wrote it, up to the end of its line (short)."""
    if mark is None or mark.buffer is None:
        return "<yaml>"
    text = str(mark.buffer)[mark.pointer :].split("\n", 1)[0].rstrip("\0")
    return text[:40] + ("..." if len(text) > 40 else "")


_INT_TAG = "tag:yaml.org,2002:int"
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+\Z")
"""Decimal digits after a zero: YAML 1.1 reads them as octal (or as a string, with an 8 or 9), YAML 1.2
as decimal. The file means one of the two; which one cannot be known, so it is refused."""


def _ambiguity_rule(text: str) -> str:
    """What each version makes of `text`, with the two ways to say which one the file means."""
    digits = text.lstrip("+-")
    new = int(text, 10) if len(digits) <= 30 else None
    if not set(digits) <= set("01234567"):
        old = "a string"
    else:
        octal = int(text, 8) if len(digits) <= 30 else None
        old = "an octal number" if octal is None or octal == new else str(octal)
    shown = text if len(text) <= 40 else text[:37] + "..."
    as_12 = "a decimal number" if new is None or old == "an octal number" else str(new)
    return (
        f"ambiguous number: YAML 1.1 reads {shown} as {old} and YAML 1.2 as {as_12}; "
        f'quote it ("{shown}") or drop the leading zero'
    )


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types, and limits checked while composing.

    The checks run on the node graph, before any Python object exists: depth is counted as nodes open, so
    a 100,000-deep `[[[...` stops at level 65 instead of recursing, and each alias adds the size of what
    it stands for, so a billion laughs stops at the limit instead of after construction.
    """

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}  # own table, not SafeLoader's

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._expanded = 0
        self._shape: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded values, nesting height)

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        """Stop `[[[[...` in the scanner too: it looks ahead across open brackets (slowly, quadratically)
        before the composer sees the 65th level; a flow level past the limit is past it in any count."""
        if self.flow_level >= MAX_DEPTH:
            mark = self.get_mark()
            raise _Refusal(Problem(_line(mark), _snippet(mark), _DEPTH_RULE))
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            return self._alias(parent, index, event)
        if (
            isinstance(event, yaml.ScalarEvent)
            and event.style is None  # plain: quoted scalars are strings in both versions
            and event.tag in (None, "!", _INT_TAG)  # PyYAML resolves `! 0042` like a plain scalar
            and _LEADING_ZERO.match(event.value)
        ):
            raise _Refusal(Problem(_line(event.start_mark), event.value, _ambiguity_rule(event.value)))
        opens = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        self._depth += opens
        if self._depth > MAX_DEPTH:
            raise _Refusal(Problem(_line(event.start_mark), _snippet(event.start_mark), _DEPTH_RULE))
        self._count(1, event.start_mark, aliased=False)
        node = super().compose_node(parent, index)
        self._depth -= opens
        if node is None:
            return None
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        shapes = [self._shape[id(child)] for child in children]
        size = 1 + sum(s for s, _ in shapes)
        height = opens + max((h for _, h in shapes), default=0)
        self._shape[id(node)] = (size, height)
        return node

    def _alias(self, parent: yaml.Node | None, index: int, event: yaml.AliasEvent) -> yaml.Node | None:
        node = super().compose_node(parent, index)  # refuses undefined aliases
        where, shown = _line(event.start_mark), f"*{event.anchor}"
        shape = self._shape.get(id(node))
        if shape is None:  # still open: the alias is inside the collection it names
            raise _Refusal(Problem(where, shown, f"recursive alias: {shown} refers to a collection that contains it"))
        size, height = shape
        if self._depth + height > MAX_DEPTH:
            raise _Refusal(Problem(where, shown, f"{_DEPTH_RULE} (counting what aliases stand for)"))
        self._count(size, event.start_mark, aliased=True, shown=shown)
        return node

    def _count(self, size: int, mark: Any, *, aliased: bool, shown: str = "") -> None:
        self._expanded += size
        if self._expanded <= MAX_NODES:
            return
        where = _line(mark)
        if aliased:
            rule = (
                f"too many values: aliases expand the document to more than {MAX_NODES:,} values "
                '(a "billion laughs" document); write the values out or use fewer aliases'
            )
            raise _Refusal(Problem(where, shown, rule))
        raise _Refusal(
            Problem(where, _snippet(mark), f"too many values: the document has more than {MAX_NODES:,} values")
        )

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Name the line of a scalar Python cannot build (`!!timestamp 2026-02-30`, a 5,000-digit int)."""
        try:
            return super().construct_object(node, deep)
        except ValueError as exc:
            value = node.value if isinstance(node, yaml.ScalarNode) else _snippet(node.start_mark)
            raise _Refusal(Problem(_line(node.start_mark), value, f"not a usable value: {exc}")) from None


def _resolver(tag: str, pattern: str, first: list[str]) -> None:
    _Yaml12Loader.add_implicit_resolver(tag, re.compile(f"(?:{pattern})\\Z"), first)


# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), plus merge keys. Timestamps,
# sexagesimal numbers, `_` in numbers, `=` and yes/no/on/off booleans are YAML 1.1 only: here they are strings.
_resolver("tag:yaml.org,2002:null", r"~|null|Null|NULL|", ["~", "n", "N", ""])
_resolver("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", list("tTfF"))
_resolver(_INT_TAG, r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", list("-+0123456789"))
_resolver(
    "tag:yaml.org,2002:float",
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
    list("-+.0123456789"),
)
_resolver("tag:yaml.org,2002:merge", r"<<", ["<"])
