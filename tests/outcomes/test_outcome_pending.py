"""Pending explained: every message signature in `fixtures/pending/` gets the cause, the retryable flag
and the line its `expect` says; the fail-fast verdicts; the requirement and duration spellings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.outcomes import (
    Outcome,
    PendingCause,
    PendingExplanation,
    check_pending,
    explain_pending,
    unschedulable_classification,
)
from airflow_eks_data.outcomes.model import short
from airflow_eks_data.outcomes.startup import duration, requirements

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "pending").glob("*.yaml"))
REQUIRED_KEYS = {"source", "description", "evidence", "expect"}


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def _explain(evidence: dict[str, Any]) -> PendingExplanation | None:
    return explain_pending(
        evidence["role"],
        evidence.get("pod"),
        evidence.get("events") or [],
        evidence["waited_seconds"],
        application=evidence.get("application"),
        pending=evidence.get("pending", 1),
        total=evidence.get("total"),
    )


def test_corpus_covers_every_cause() -> None:
    causes = {_load(p)["expect"].get("cause") for p in FIXTURES}
    assert causes >= {c.value for c in PendingCause}
    assert {_load(p)["expect"].get("retryable") for p in FIXTURES} >= {True, False}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_signature_explained_as_expected(path: Path) -> None:
    data = _load(path)
    assert data.keys() >= REQUIRED_KEYS, f"{path.name} lacks {REQUIRED_KEYS - data.keys()}"
    assert str(data["source"]).strip(), "every fixture says where its shape comes from"
    expect = data["expect"]
    explanation = _explain(data["evidence"])
    if expect.get("explained") is False:
        assert explanation is None
        return
    assert explanation is not None
    assert explanation.cause.value == expect["cause"], explanation.line
    assert explanation.retryable is expect["retryable"], explanation.line
    if "line" in expect:
        assert explanation.line == expect["line"]
    for part in expect.get("line_contains", ()):
        assert part in explanation.line, explanation.line
    assert "\n" not in explanation.line and len(explanation.line) <= 400


def test_fail_fast_verdicts_follow_retryable() -> None:
    never = _explain(_load(FIXTURES[0].parent / "karpenter_no_nodepool.yaml")["evidence"])
    later = _explain(_load(FIXTURES[0].parent / "quota_failed_create_on_app.yaml")["evidence"])
    assert never is not None and later is not None
    failed = unschedulable_classification(never, 120)
    assert failed.outcome is Outcome.FAILED
    assert failed.reason.startswith("driver cannot be scheduled (no_node): no Karpenter NodePool matches")
    assert failed.evidence[0] == short(never.line)
    assert "fail_fast_on_unschedulable: gave up after pending_explain_after=120s" in failed.evidence
    timed_out = unschedulable_classification(later, 120)
    assert timed_out.outcome is Outcome.TIMED_OUT
    assert timed_out.reason.startswith("driver unschedulable (quota), gave up early: ResourceQuota compute-quota")


def test_the_startup_timeout_carries_the_explanation() -> None:
    line = "driver pod d pending 15m00s: no Karpenter NodePool matches (requirements arch=arm64): check placement"
    verdict = check_pending(None, [], 900, 900, explained=line)
    assert verdict.classification is not None and verdict.classification.outcome is Outcome.TIMED_OUT
    assert line in verdict.classification.evidence


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.9, "59s"), (60, "1m00s"), (130, "2m10s"), (3599, "59m59s"), (3900, "1h05m")]
)
def test_durations(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_requirements_in_short_names() -> None:
    pod = {
        "spec": {
            "nodeSelector": {"topology.kubernetes.io/zone": "eu-west-1a", "team": "x"},
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
                                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64", "amd64"]},
                                    {
                                        "key": "karpenter.k8s.aws/instance-local-nvme",
                                        "operator": "Gt",
                                        "values": ["300"],
                                    },
                                    {"key": "airflow-eks-data/app", "operator": "Exists"},
                                ]
                            }
                        ]
                    }
                }
            },
        }
    }
    assert requirements(pod) == "arch=arm64|amd64, capacity=spot, zone=eu-west-1a, local-nvme-gb>300, team=x"
    assert requirements(None) == ""
