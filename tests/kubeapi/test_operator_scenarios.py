"""Every scenario the simulated Spark Operator plays, checked through what a client can observe."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kubeapi.manifests import spark_app
from tests.kubeapi.scenarios import (
    DriverError,
    Hold,
    ImagePullBackOff,
    NodeLost,
    OOMKilled,
    PendingCapacity,
    SpotInterruption,
    SubmissionFailure,
    Succeed,
)
from tests.kubeapi.server import KubeApiServer

ON_FAILURE = {"type": "OnFailure", "onFailureRetries": 2, "onFailureRetryInterval": 1}


@pytest.fixture
def k(kube_api: KubeApiServer) -> KubeApiServer:
    kube_api.clock.speed = 100
    return kube_api


def _status(k: KubeApiServer, name: str) -> dict[str, Any]:
    app = k.get("sparkapplications", name)
    assert app is not None
    status: dict[str, Any] = app["status"]
    return status


def _reasons(k: KubeApiServer, name: str) -> list[str]:
    return [e["reason"] for e in k.events(name)]


def _condition(pod: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in pod["status"].get("conditions", []) if c["type"] == kind), None)


def test_success(k: KubeApiServer) -> None:
    body = spark_app("ok", labels={"team": "data"}, executors=2, driver_labels={"role-label": "d"})
    body["spec"]["driver"]["template"] = {"metadata": {"labels": {"from-template": "yes"}}}
    k.create("sparkapplications", body)
    k.wait_for_state("ok", "COMPLETED")

    assert k.state_history("ok") == ["SUBMITTED", "RUNNING", "SUCCEEDING", "COMPLETED"]
    status = _status(k, "ok")
    assert status["submissionAttempts"] == 1 and status["executionAttempts"] == 1
    assert status["driverInfo"]["podName"] == "ok-driver"
    assert status["driverInfo"]["webUIServiceName"] == "ok-ui-svc"
    assert status["terminationTime"] and status["lastSubmissionAttemptTime"]
    assert len(status["executorState"]) == 2
    assert set(status["executorState"].values()) == {"COMPLETED"}

    driver = k.get("pods", "ok-driver")
    assert driver is not None
    labels = driver["metadata"]["labels"]
    assert labels["sparkoperator.k8s.io/app-name"] == "ok"
    assert labels["sparkoperator.k8s.io/launched-by-spark-operator"] == "true"
    assert labels["sparkoperator.k8s.io/submission-id"] == status["submissionID"]
    assert labels["spark-role"] == "driver"
    assert labels["spark-app-selector"] == status["sparkApplicationId"]
    assert labels["team"] == "data" and labels["role-label"] == "d" and labels["from-template"] == "yes"
    assert driver["metadata"]["ownerReferences"][0]["kind"] == "SparkApplication"
    assert driver["status"]["phase"] == "Succeeded"
    assert driver["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    # Executors are gone (Spark deletes them at the end); their executor state stays.
    assert k.list("pods", "default", "spark-role=executor") == []
    assert {
        "SparkApplicationAdded",
        "SparkApplicationSubmitted",
        "SparkDriverRunning",
        "SparkExecutorRunning",
        "SparkDriverCompleted",
        "SparkApplicationCompleted",
    } <= set(_reasons(k, "ok"))


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        (DriverError(exit_code=1), "driver container failed with ExitCode: 1, Reason: Error"),
        (OOMKilled(), "driver container failed with ExitCode: 137, Reason: OOMKilled"),
    ],
)
def test_driver_failures(k: KubeApiServer, outcome: DriverError | OOMKilled, message: str) -> None:
    k.script("bad", outcome)
    k.create("sparkapplications", spark_app("bad"))
    k.wait_for_state("bad", "FAILED")
    assert k.state_history("bad") == ["SUBMITTED", "RUNNING", "FAILING", "FAILED"]
    assert _status(k, "bad")["applicationState"] == {"state": "FAILED", "errorMessage": message}
    driver = k.get("pods", "bad-driver")
    assert driver is not None
    assert driver["status"]["phase"] == "Failed"
    assert _condition(driver, "DisruptionTarget") is None  # the app's own fault, not infrastructure
    assert {"SparkDriverFailed", "SparkApplicationFailed"} <= set(_reasons(k, "bad"))


def test_spot_interruption_evidence(k: KubeApiServer) -> None:
    # A long linger keeps the Failed driver pod around to inspect the evidence.
    k.script("spot", SpotInterruption(linger=10_000))
    k.create("sparkapplications", spark_app("spot"))
    k.wait_for_state("spot", "FAILED")
    assert _status(k, "spot")["applicationState"]["errorMessage"] == (
        "driver container failed with ExitCode: 143, Reason: Error"
    )
    driver = k.get("pods", "spot-driver")
    assert driver is not None
    cond = _condition(driver, "DisruptionTarget")
    assert cond is not None and cond["status"] == "True" and cond["reason"] == "EvictionByEvictionAPI"
    assert driver["metadata"]["deletionTimestamp"]
    assert driver["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 143
    node = k.get("nodes", driver["spec"]["nodeName"])
    assert node is not None
    assert node["metadata"]["labels"]["karpenter.sh/capacity-type"] == "spot"
    assert {"key": "karpenter.sh/disrupted", "effect": "NoSchedule"} in node["spec"]["taints"]
    node_events = [e["reason"] for e in k.events(node["metadata"]["name"], kind="Node")]
    assert {"SpotInterrupted", "TerminatingOnInterruption"} <= set(node_events)
    pod_events = set(_reasons(k, "spot-driver"))
    assert {"SpotInterrupted", "TerminatingOnInterruption", "Killing"} <= pod_events
    spot_event = next(e for e in k.events("spot-driver") if e["reason"] == "SpotInterrupted")
    assert spot_event["type"] == "Warning" and spot_event["source"]["component"] == "karpenter"


def test_spot_interruption_then_operator_retry_succeeds(k: KubeApiServer) -> None:
    k.script("retry", SpotInterruption(), Succeed())
    k.create("sparkapplications", spark_app("retry", restart_policy=ON_FAILURE))
    first = k.wait_for(lambda: _status(k, "retry").get("submissionID"))
    k.wait_for_state("retry", "COMPLETED")
    assert k.state_history("retry") == [
        "SUBMITTED",
        "RUNNING",
        "FAILING",
        "PENDING_RERUN",
        "SUBMITTED",
        "RUNNING",
        "SUCCEEDING",
        "COMPLETED",
    ]
    status = _status(k, "retry")
    assert status["submissionID"] != first
    assert status["executionAttempts"] == 2 and status["submissionAttempts"] == 2
    assert "errorMessage" not in status["applicationState"]  # wiped on retry, as upstream
    assert "SparkApplicationPendingRerun" in _reasons(k, "retry")


def test_retries_exhausted(k: KubeApiServer) -> None:
    k.script("tired", DriverError())
    k.create("sparkapplications", spark_app("tired", restart_policy={**ON_FAILURE, "onFailureRetries": 1}))
    k.wait_for_state("tired", "FAILED")
    assert k.state_history("tired").count("SUBMITTED") == 2
    assert _status(k, "tired")["executionAttempts"] == 2


@pytest.mark.parametrize(("unknown_for", "expect_unknown"), [(0.0, False), (3.0, True)])
def test_node_lost_without_drain(k: KubeApiServer, unknown_for: float, expect_unknown: bool) -> None:
    k.script("lost", NodeLost(unknown_for=unknown_for))
    k.create("sparkapplications", spark_app("lost"))
    k.wait_for_state("lost", "FAILED")
    history = k.state_history("lost")
    assert ("UNKNOWN" in history) is expect_unknown
    assert history[-2:] == ["FAILING", "FAILED"]
    assert _status(k, "lost")["applicationState"]["errorMessage"] == "driver pod not found"
    assert k.get("pods", "lost-driver") is None
    assert "NodeNotReady" in {
        e["reason"] for e in k.list("events", "default", field_selector="involvedObject.kind=Node")
    }


def test_executor_losses_do_not_fail_the_app(k: KubeApiServer) -> None:
    k.script("exec", Succeed(executor_losses=2, run_for=6))
    k.create("sparkapplications", spark_app("exec", executors=2))
    k.wait_for_state("exec", "COMPLETED")
    assert "FAILING" not in k.state_history("exec")
    states = _status(k, "exec")["executorState"]
    assert sorted(states.values()) == ["COMPLETED", "COMPLETED", "FAILED", "FAILED"]
    failed = [e for e in k.events("exec") if e["reason"] == "SparkExecutorFailed"]
    assert len(failed) == 2 and "ExitCode: 143" in failed[0]["message"]


def test_submission_failed_without_retries(k: KubeApiServer) -> None:
    k.script("sub", SubmissionFailure())
    k.create("sparkapplications", spark_app("sub"))
    k.wait_for_state("sub", "FAILED")
    assert k.state_history("sub") == ["SUBMISSION_FAILED", "FAILED"]
    assert "failed to run spark-submit" in _status(k, "sub")["applicationState"]["errorMessage"]
    assert k.list("pods", "default", "sparkoperator.k8s.io/app-name=sub") == []
    assert "SparkApplicationSubmissionFailed" in _reasons(k, "sub")


def test_submission_failed_then_operator_retry(k: KubeApiServer) -> None:
    k.script("sub2", SubmissionFailure(), Succeed())
    policy = {"type": "OnFailure", "onSubmissionFailureRetries": 2, "onSubmissionFailureRetryInterval": 1}
    k.create("sparkapplications", spark_app("sub2", restart_policy=policy))
    k.wait_for_state("sub2", "COMPLETED")
    assert k.state_history("sub2")[:2] == ["SUBMISSION_FAILED", "SUBMITTED"]
    assert _status(k, "sub2")["submissionAttempts"] == 2


def test_image_pull_backoff_stays_submitted(k: KubeApiServer) -> None:
    k.script("img", ImagePullBackOff(image="registry.example/nope:1"))
    k.create("sparkapplications", spark_app("img"))
    k.wait_for(lambda: "BackOff" in _reasons(k, "img-driver"))
    k.clock.advance(120)
    k.wait_for(lambda: _reasons(k, "img-driver").count("BackOff") >= 2)
    assert k.app_state("img") == "SUBMITTED"
    driver = k.get("pods", "img-driver")
    assert driver is not None and driver["status"]["phase"] == "Pending"
    waiting = driver["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] in ("ImagePullBackOff", "ErrImagePull")
    assert "Failed" in _reasons(k, "img-driver")


def test_image_pull_backoff_can_recover(k: KubeApiServer) -> None:
    k.script("img2", ImagePullBackOff(recover_after=30, run_for=1))
    k.create("sparkapplications", spark_app("img2"))
    k.wait_for(lambda: "BackOff" in _reasons(k, "img2-driver"))
    k.clock.advance(30)
    k.wait_for_state("img2", "COMPLETED")


def test_pending_capacity_is_not_terminal(k: KubeApiServer) -> None:
    k.clock.speed = 20
    k.script("cap", PendingCapacity(provision_after=40, run_for=1))
    k.create("sparkapplications", spark_app("cap"))
    k.wait_for(lambda: "FailedScheduling" in _reasons(k, "cap-driver"))
    assert k.app_state("cap") == "SUBMITTED"
    driver = k.get("pods", "cap-driver")
    assert driver is not None
    scheduled = _condition(driver, "PodScheduled")
    assert scheduled is not None and scheduled["reason"] == "Unschedulable"
    assert "Nominated" in _reasons(k, "cap-driver")
    k.clock.advance(40)
    k.wait_for_state("cap", "COMPLETED")
    assert _reasons(k, "cap-driver").count("FailedScheduling") >= 1


def test_ttl_deletes_the_app_and_its_pods(k: KubeApiServer) -> None:
    k.script("ttl", Succeed(run_for=1))
    k.create("sparkapplications", spark_app("ttl", ttl=3600))
    k.wait_for_state("ttl", "COMPLETED")
    assert k.get("pods", "ttl-driver") is not None
    k.clock.advance(3600)
    k.wait_for(lambda: k.get("sparkapplications", "ttl") is None)
    assert k.get("pods", "ttl-driver") is None


def test_driver_pod_deleted_by_someone(k: KubeApiServer) -> None:
    k.script("gone", Hold(pending_for=0))
    k.create("sparkapplications", spark_app("gone"))
    k.wait_for_state("gone", "RUNNING")
    k.delete("pods", "gone-driver")
    k.wait_for_state("gone", "FAILED")
    assert _status(k, "gone")["applicationState"]["errorMessage"] == "driver pod not found"


def test_scenario_chosen_by_label_annotation_and_glob(k: KubeApiServer) -> None:
    k.script("nightly-*", DriverError())
    k.script("custom", OOMKilled())
    k.create("sparkapplications", spark_app("by-annotation", scenario="oom"))
    k.create(
        "sparkapplications",
        spark_app("by-label", labels={"kubeapi.test/scenario": "spot.success"}, restart_policy=ON_FAILURE),
    )
    k.create("sparkapplications", spark_app("by-custom-key", scenario="custom"))
    k.create("sparkapplications", spark_app("nightly-42"))
    for name in ("by-annotation", "by-custom-key", "nightly-42"):
        k.wait_for_state(name, "FAILED")
    k.wait_for_state("by-label", "COMPLETED")
    assert "OOMKilled" in _status(k, "by-annotation")["applicationState"]["errorMessage"]
    assert "OOMKilled" in _status(k, "by-custom-key")["applicationState"]["errorMessage"]
    assert "ExitCode: 1," in _status(k, "nightly-42")["applicationState"]["errorMessage"]
    assert "PENDING_RERUN" in k.state_history("by-label")
