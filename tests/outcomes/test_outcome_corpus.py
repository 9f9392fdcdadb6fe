"""Every fixture in the corpus is classified exactly as its `expect` says (the issue asks for 100%)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.outcomes import Outcome, classify, evidence_from_dict

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.yaml"))
REQUIRED_KEYS = {"source", "description", "evidence", "expect"}


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_corpus_is_large_enough_and_covers_every_outcome() -> None:
    assert len(FIXTURES) >= 40
    outcomes = {_load(p)["expect"]["outcome"] for p in FIXTURES}
    assert outcomes == {o.value for o in Outcome}
    kinds = {_load(p)["evidence"]["kind"] for p in FIXTURES}
    assert kinds == {"spark_operator", "emr_on_eks", "emr_serverless", "timed_out", "cancelled"}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_classified_as_expected(path: Path) -> None:
    data = _load(path)
    assert data.keys() >= REQUIRED_KEYS, f"{path.name} lacks {REQUIRED_KEYS - data.keys()}"
    assert str(data["source"]).strip(), "every fixture says where its shape comes from"
    evidence = evidence_from_dict(data["evidence"])
    result = classify(evidence)
    expect = data["expect"]
    assert result.outcome.value == expect["outcome"], f"{result.reason} | {result.evidence}"
    if "reason_contains" in expect:
        assert expect["reason_contains"].lower() in result.reason.lower(), result.reason
    assert result.reason and result.evidence, "every classification explains itself"


@pytest.mark.parametrize("path", FIXTURES[:10], ids=lambda p: p.stem)
def test_evidence_round_trips_through_json(path: Path) -> None:
    evidence = evidence_from_dict(_load(path)["evidence"])
    again = evidence_from_dict(evidence.to_dict())
    assert again == evidence
    assert classify(again) == classify(evidence)


def test_emr_serverless_service_retries_are_explained() -> None:
    data = _load(Path(__file__).parent / "fixtures" / "emrs_failed_after_service_retries.yaml")
    lines = classify(evidence_from_dict(data["evidence"])).evidence
    assert "EMR Serverless retried the run itself: attempt 3 of 3" in lines
    assert "attempt 1: FAILED Worker lost" in lines


def test_emr_serverless_active_states_are_not_terminal() -> None:
    from airflow_eks_data.outcomes import EMR_SERVERLESS_JOB_RUN, EmrServerlessEvidence, NotTerminalError

    for state in EMR_SERVERLESS_JOB_RUN.active:
        with pytest.raises(NotTerminalError):
            classify(EmrServerlessEvidence(job_run={"state": state}))
