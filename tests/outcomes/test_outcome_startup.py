"""Pending capacity is not a failure until startup_timeout; pods that can never start fail now."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_eks_data.outcomes import (
    EmrEvidence,
    NotTerminalError,
    Outcome,
    SparkOperatorEvidence,
    check_pending,
    classify,
)


def _pod(waiting: str | None = None, unschedulable: bool = False) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": "Pending", "conditions": []}
    if unschedulable:
        status["conditions"].append(
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes available"}
        )
    if waiting:
        status["containerStatuses"] = [
            {"name": "spark-kubernetes-driver", "state": {"waiting": {"reason": waiting, "message": "m"}}}
        ]
    return {"metadata": {"name": "d"}, "status": status}


KARPENTER_EVENTS = [
    {"reason": "FailedScheduling", "message": "0/3 nodes are available", "involvedObject": {"kind": "Pod"}},
    {"reason": "Nominated", "message": "Pod should schedule on: nodeclaim/spark-x", "involvedObject": {"kind": "Pod"}},
]


def test_capacity_pending_keeps_waiting_until_startup_timeout() -> None:
    verdict = check_pending(_pod(unschedulable=True), KARPENTER_EVENTS, 120, 900)
    assert verdict.keep_waiting and verdict.classification is None
    assert "PodScheduled=False" in verdict.reason
    late = check_pending(_pod(unschedulable=True), KARPENTER_EVENTS, 900, 900)
    assert not late.keep_waiting and late.classification is not None
    assert late.classification.outcome is Outcome.TIMED_OUT
    assert "startup_timeout" in late.classification.reason


def test_events_only_and_missing_pod() -> None:
    assert "Nominated" in check_pending(_pod(), KARPENTER_EVENTS, 10, 900).reason
    missing = check_pending(None, [], 10, 900)
    assert missing.keep_waiting and "not created" in missing.reason


@pytest.mark.parametrize("reason", ["InvalidImageName", "CreateContainerConfigError"])
def test_never_startable_fails_now(reason: str) -> None:
    verdict = check_pending(_pod(waiting=reason), [], 5, 900)
    assert not verdict.keep_waiting
    assert verdict.classification is not None and verdict.classification.outcome is Outcome.FAILED


def test_image_pull_gets_until_startup_timeout_then_fails() -> None:
    assert check_pending(_pod(waiting="ImagePullBackOff"), [], 60, 900).keep_waiting
    late = check_pending(_pod(waiting="ErrImagePull"), [], 901, 900)
    assert late.classification is not None and late.classification.outcome is Outcome.FAILED


@pytest.mark.parametrize(
    "state", ["", "SUBMITTED", "RUNNING", "UNKNOWN", "FAILING", "PENDING_RERUN", "SUBMISSION_FAILED"]
)
def test_spark_operator_non_terminal_states_raise(state: str) -> None:
    ev = SparkOperatorEvidence(snapshots=({"applicationState": {"state": state}},))
    with pytest.raises(NotTerminalError):
        classify(ev)


@pytest.mark.parametrize("state", ["PENDING", "SUBMITTED", "RUNNING", "CANCEL_PENDING"])
def test_emr_non_terminal_states_raise(state: str) -> None:
    with pytest.raises(NotTerminalError):
        classify(EmrEvidence(job_run={"id": "j", "state": state}))


def test_no_snapshots_is_not_terminal() -> None:
    with pytest.raises(NotTerminalError):
        classify(SparkOperatorEvidence())


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"karpenter.sh/capacity-type": "spot"}, "spot"),
        ({"eks.amazonaws.com/capacityType": "SPOT"}, "spot"),
        ({"eks.amazonaws.com/capacityType": "ON_DEMAND"}, "on-demand"),
        ({}, None),
    ],
)
def test_capacity_type_labels(labels: dict[str, str], expected: str | None) -> None:
    from airflow_eks_data.outcomes.kube import capacity_type

    assert capacity_type(labels, None) == expected
