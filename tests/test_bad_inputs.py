"""The bad-input corpus: every case is refused before rendering, with a message naming field, value and rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.pipeline import prepare
from tests.conftest import FIXTURES, JOB_PATH, PROFILE_PATH

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "bad_inputs.yaml").read_text())


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _document(case: dict[str, Any], base_path: Path) -> str:
    if "raw" in case:
        return str(case["raw"])
    base: dict[str, Any] = yaml.safe_load(base_path.read_text()) if case.get("base") else {}
    for key in case.get("drop", []):
        base.pop(key, None)
    return yaml.safe_dump(_deep_merge(base, case.get("doc", {})))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({case["id"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_refused_with_a_clear_message(case: dict[str, Any], tmp_path: Path) -> None:
    is_job = case["kind"] == "job"
    path = tmp_path / ("job.yaml" if is_job else "profile.yaml")
    path.write_text(_document(case, JOB_PATH if is_job else PROFILE_PATH))
    with pytest.raises(SpecError) as caught:
        if is_job:
            prepare(SparkJob.from_yaml(path), PROFILE_PATH, target="spark_operator")
        else:
            prepare(JOB_PATH, PlatformProfile.from_yaml(path), target="spark_operator")
    matching = [
        p
        for p in caught.value.problems
        if p.path.startswith(case["path"]) and case["rule"] in p.rule and str(case["value"]) in str(p)
    ]
    assert matching, f"no problem matches {case}; got: {caught.value.lines()}"
