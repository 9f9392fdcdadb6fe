"""`read_yaml`: YAML 1.2 core-schema scalars, and every hostile file refused with a `SpecError`, quickly."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob, yaml12
from airflow_eks_data.jobspec.yaml12 import MAX_FILE_BYTES, read_yaml
from tests.conftest import EXAMPLES


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "spec.yaml"


def value_of(path: Path, scalar: str) -> Any:
    path.write_text(f"key: {scalar}\n", encoding="utf-8")
    data = read_yaml(path)
    assert isinstance(data, dict)
    return data["key"]


def refusal(path: Path, content: bytes | str) -> SpecError:
    """The `SpecError` reading `content` raises, within a second (a limit checked too late takes longer)."""
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    start = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        read_yaml(path)
    assert time.perf_counter() - start < 1.0
    assert caught.value.source == str(path)
    assert len(caught.value.problems) == 1
    return caught.value


@pytest.mark.parametrize("scalar", ["NO", "no", "yes", "Yes", "on", "OFF", "y", "n"])
def test_yaml_11_booleans_are_strings(path: Path, scalar: str) -> None:
    assert value_of(path, scalar) == scalar


@pytest.mark.parametrize(("scalar", "expected"), [("true", True), ("True", True), ("FALSE", False)])
def test_core_schema_booleans(path: Path, scalar: str, expected: bool) -> None:
    assert value_of(path, scalar) is expected


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [("0", 0), ("-0", 0), ("42", 42), ("+42", 42), ("-7", -7), ("0x1F", 31), ("0o17", 15)],
)
def test_core_schema_ints(path: Path, scalar: str, expected: int) -> None:
    value = value_of(path, scalar)
    assert type(value) is int and value == expected


@pytest.mark.parametrize(("scalar", "expected"), [("1e3", 1000.0), ("1.5", 1.5), (".5", 0.5), ("-.inf", -float("inf"))])
def test_core_schema_floats(path: Path, scalar: str, expected: float) -> None:
    value = value_of(path, scalar)
    assert type(value) is float and value == expected


def test_nan(path: Path) -> None:
    value = value_of(path, ".NaN")
    assert isinstance(value, float) and math.isnan(value)


@pytest.mark.parametrize("scalar", ["~", "null", "NULL", ""])
def test_core_schema_nulls(path: Path, scalar: str) -> None:
    assert value_of(path, scalar) is None


@pytest.mark.parametrize("scalar", ["1_000", "1:30", "2026-02-30", "2026-01-01", "0b101", "=", "12e"])
def test_yaml_11_only_forms_are_strings(path: Path, scalar: str) -> None:
    assert value_of(path, scalar) == scalar


def test_explicit_tags_still_work(path: Path) -> None:
    path.write_text("a: !!str 12\nb: !!int '7'\nc: !!float 2\nd: !!str yes\n")
    assert read_yaml(path) == {"a": "12", "b": 7, "c": 2.0, "d": "yes"}


def test_merge_keys_still_work(path: Path) -> None:
    path.write_text("base: &base {cores: 2, memory: 4g}\nexecutor:\n  <<: *base\n  cores: 4\n")
    assert read_yaml(path) == {"base": {"cores": 2, "memory": "4g"}, "executor": {"cores": 4, "memory": "4g"}}


def test_pyyaml_safe_loader_is_untouched(path: Path) -> None:
    value_of(path, "yes")
    assert yaml.safe_load("a: yes\nb: 0042\nc: 1_000") == {"a": True, "b": 34, "c": 1000}


def test_leading_zero_is_refused_with_both_readings(path: Path) -> None:
    error = refusal(path, "name: x\nretries: 0042\n")
    problem = error.problems[0]
    assert (problem.path, problem.value) == ("line 2", "0042")
    assert problem.rule == (
        'ambiguous number: YAML 1.1 reads 0042 as 34 and YAML 1.2 as 42; quote it ("0042") or drop the leading zero'
    )


@pytest.mark.parametrize(
    ("document", "written", "reading"),
    [
        ("[1, -0042]", "-0042", "reads -0042 as -34 and YAML 1.2 as -42"),
        ("{0042: x}", "0042", "reads 0042 as 34"),  # keys too
        ("!!int 0042", "0042", "reads 0042 as 34"),  # an explicit int is built the 1.1 way
        ("! 0042", "0042", "reads 0042 as 34"),  # PyYAML resolves the non-specific tag like a plain scalar
        ("09", "09", "reads 09 as a string and YAML 1.2 as 9"),
        ("007", "007", "reads 007 as an octal number and YAML 1.2 as a decimal number"),
    ],
)
def test_other_leading_zeros(path: Path, document: str, written: str, reading: str) -> None:
    problem = refusal(path, f"key: {document}\n").problems[0]
    assert problem.value == written
    assert reading in problem.rule


@pytest.mark.parametrize("document", ['"0042"', "'0042'", "!!str 0042", "0042.5"])
def test_quoted_or_tagged_leading_zeros_are_fine(path: Path, document: str) -> None:
    assert value_of(path, document) in ("0042", 42.5)


def test_utf8_bom_is_accepted(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert read_yaml(path) == {"name": "x"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_refused(path: Path, encoding: str) -> None:
    problem = refusal(path, "name: x\n".encode(encoding)).problems[0]
    assert problem.rule.startswith(f"not UTF-8 text (looks like {encoding.upper()}LE")
    assert problem.rule.endswith("save the file as UTF-8")


def test_utf16_without_a_bom_is_refused(path: Path) -> None:
    problem = refusal(path, "name: x\n".encode("utf-16-be")).problems[0]
    assert problem.rule == "not UTF-8 text (looks like UTF-16BE without a byte-order mark): save the file as UTF-8"


def test_nul_byte_is_refused(path: Path) -> None:
    problem = refusal(path, b"name: x\nimage: a\x00b\n").problems[0]
    assert problem.path == "line 2"
    assert problem.rule == "not UTF-8 text (a NUL byte at offset 16): save the file as UTF-8"


def test_invalid_utf8_names_the_offset_and_line(path: Path) -> None:
    problem = refusal(path, "name: x\nteam: café\n".encode("latin-1")).problems[0]
    assert (problem.path, problem.value) == ("line 2", b"\xe9")
    assert problem.rule == "not UTF-8 text (invalid byte 0xE9 at offset 17, line 2): save the file as UTF-8"


def test_oversized_file_is_refused(path: Path) -> None:
    size = MAX_FILE_BYTES + 10
    problem = refusal(path, b"a: " + b"x" * (size - 3)).problems[0]
    assert problem.rule == f"file too large: {size:,} bytes, the limit is 1,048,576 bytes (1 MiB)"


@pytest.mark.parametrize(
    "document",
    [
        "[" * 10_000 + "]" * 10_000,
        "[" * 100_000,  # unclosed as well: the depth is found first
        "- " * 10_000 + "x\n",
        "".join("  " * i + "k:\n" for i in range(500)),
        "{a: " * 10_000 + "1" + "}" * 10_000,
    ],
    ids=["flow-seq", "unclosed-100k", "block-seq", "block-map", "flow-map"],
)
def test_deep_nesting_is_refused_before_recursing(path: Path, document: str) -> None:
    problem = refusal(path, document).problems[0]
    assert problem.rule == "nested deeper than 64 levels"
    assert problem.path.startswith("line ")


def test_64_levels_are_fine(path: Path) -> None:
    path.write_text("[" * 64 + "]" * 64)
    data = read_yaml(path)
    for _ in range(63):
        data = data[0]
    assert data == []


def test_recursion_error_is_a_spec_error_too(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last resort, should a limit ever be raised past what Python's stack allows."""
    monkeypatch.setattr(yaml12, "MAX_DEPTH", 10**9)
    problem = refusal(path, "- " * 5_000 + "x\n").problems[0]
    assert (problem.path, problem.rule) == ("document", "nested deeper than 64 levels")


def test_depth_through_aliases_counts(path: Path) -> None:
    deep = "[" * 40 + "x" + "]" * 40
    problem = refusal(path, f"a: &a {deep}\nb: {'[' * 30}*a{']' * 30}\n").problems[0]
    assert (problem.path, problem.value) == ("line 2", "*a")
    assert problem.rule.startswith("nested deeper than 64 levels")


def billion_laughs() -> Iterator[str]:
    yield "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in range(1, 10):
        yield f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]\n"


def test_billion_laughs_is_refused(path: Path) -> None:
    problem = refusal(path, "".join(billion_laughs())).problems[0]
    assert (problem.path, problem.value) == ("line 5", "*l3")  # 10**10 values; l4 alone passes 100,000
    assert problem.rule.startswith("too many values: aliases expand the document to more than 100,000 values")


def test_a_few_aliases_are_fine(path: Path) -> None:
    path.write_text("".join(list(billion_laughs())[:3]))
    data = read_yaml(path)
    assert len(data["l2"]) == 10 and data["l2"][9][9] == data["l0"]


def test_recursive_alias_is_refused(path: Path) -> None:
    problem = refusal(path, "arguments: &a [x, *a]\n").problems[0]
    assert problem.rule == "recursive alias: *a refers to a collection that contains it"


@pytest.mark.parametrize(
    ("document", "where", "rule"),
    [
        ("name: [unclosed\n", "line 2", "not valid YAML"),
        ("a: 1\n---\nb: 2\n", "line 2", "not valid YAML"),
        ("a: !!python/object:os.system x\n", "line 1", "not valid YAML: could not determine a constructor"),
        ("a: 1\nb: \x07\n", "line 2", "not valid YAML: control character U+0007"),
        ("a: !!timestamp 2026-02-30\n", "line 1", "not a usable value: day is out of range"),
        (f"a: [{'9' * 5000}]\n", "line 1", "not a usable value"),
    ],
)
def test_bad_yaml_names_the_line(path: Path, document: str, where: str, rule: str) -> None:
    problem = refusal(path, document).problems[0]
    assert problem.path == where
    assert problem.rule.startswith(rule)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read file"):
        read_yaml(tmp_path / "missing.yaml")


def test_the_example_job_and_profile_still_load() -> None:
    """They load, and mean what they meant under PyYAML's YAML 1.1 `safe_load`."""
    job_path, profile_path = EXAMPLES / "jobs" / "compact_table.yaml", EXAMPLES / "profiles" / "compaction.yaml"
    job = SparkJob.from_yaml(job_path)
    assert job.name == "compact-table" and job.arguments[-1] == "512"
    assert job.executor is not None and job.executor.instances == 4
    assert job == SparkJob.from_dict(yaml.safe_load(job_path.read_text()))
    profile = PlatformProfile.from_yaml(profile_path)
    assert profile.name == "compaction" and profile.time_to_live_seconds == 86400
    assert profile == PlatformProfile.from_dict(yaml.safe_load(profile_path.read_text()))


def test_non_mapping_documents_are_refused(path: Path) -> None:
    path.write_text("- just\n- a list\n")
    with pytest.raises(SpecError, match="a SparkJob is a YAML mapping"):
        SparkJob.from_yaml(path)
