"""Pending explained, over the test API server: a driver or executors left unschedulable (no NodePool
matches, a quota refuses the driver, YuniKorn's queue is full) get one line in the log at the
threshold, long before `startup_timeout`, a metric tagged with the cause, and, when the profile
says so, an end to the wait."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import Any

import pytest
import structlog.testing

from airflow_eks_data.outcomes import Outcome
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.triggers.events import event_classification
from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger
from tests.conftest import PROFILE_PATH
from tests.kubeapi.scenarios import NoNodePool, QueueFull, QuotaExceeded
from tests.kubeapi.server import KubeApiServer
from tests.operators.test_observability import StatsdCollector
from tests.triggers.test_spark_application import NAMESPACE, first_event, submit

TAGS = {"tenant": "datalake", "job": "trig", "backend": "spark_operator"}
STARTUP_TIMEOUT = 3600.0  # never reached here: every explanation comes at the threshold


def pending_trigger(
    name: str, explain_after: float, *, fail_fast: bool = False, **kwargs: Any
) -> SparkApplicationTrigger:
    return SparkApplicationTrigger(
        name,
        NAMESPACE,
        poll_interval=0.2,
        startup_timeout=STARTUP_TIMEOUT,
        pending_explain_after=explain_after,
        fail_fast_on_unschedulable=fail_fast,
        metric_tags=TAGS,
        **kwargs,
    )


def warnings(logs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(e["event"]) % tuple(e.get("positional_args", ())) for e in logs if e.get("log_level") == "warning"]


def explained(logs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [line for line in warnings(logs) if " pending " in line or "not created after" in line]


def has_event(server: KubeApiServer, component: str, reason: str) -> bool:
    events = server.events(namespace=NAMESPACE)
    return any(e["reason"] == reason and e["source"]["component"] == component for e in events)


async def wait_until(predicate: Any, timeout: float = 20.0) -> None:
    """A bound on a test that would hang, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        await asyncio.sleep(0.05)


@pytest.fixture
def statsd(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatsdCollector]:
    """Airflow's Stats sending StatsD to a local collector, as a triggerer configured for it does."""
    from airflow.sdk._shared.observability.metrics.base_stats_logger import NoStatsLogger
    from airflow.sdk.observability import stats
    from airflow.sdk.observability.metrics import stats_utils

    collector = StatsdCollector()
    for key, value in {
        "STATSD_ON": "True",
        "STATSD_HOST": "127.0.0.1",
        "STATSD_PORT": str(collector.port),
        "STATSD_INFLUXDB_ENABLED": "True",
    }.items():
        monkeypatch.setenv(f"AIRFLOW__METRICS__{key}", value)
    stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=False)
    yield collector
    stats.initialize(factory=NoStatsLogger, export_legacy_names=False)
    collector.close()


def test_no_nodepool_is_explained_once_at_the_threshold(
    kube_api: KubeApiServer, kube_conn: str, statsd: StatsdCollector
) -> None:
    kube_api.script("nopool-1", NoNodePool())
    submit(kube_api, "nopool-1")
    kube_api.wait_for(lambda: has_event(kube_api, "karpenter", "FailedScheduling"))

    async def watch() -> list[MutableMapping[str, Any]]:
        # Submitted 2 minutes ago; the threshold looks again every 0.5 s, from then on.
        t = pending_trigger("nopool-1", 0.5, started_at=time.time() - 120)
        with structlog.testing.capture_logs() as logs:
            task = asyncio.create_task(first_event(t))
            await wait_until(lambda: explained(logs))
            looks = kube_api.counters.total(verb="list", resource="events")
            await wait_until(lambda: kube_api.counters.total(verb="list", resource="events") >= looks + 6)
            assert not task.done(), "the wait goes on: no fail fast, startup_timeout far away"
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return logs

    logs = asyncio.run(watch())
    [line] = explained(logs)  # three more looks, still one line: once per cause
    assert line.startswith("datalake/nopool-1: driver pod nopool-1-driver pending 2m")
    assert "no Karpenter NodePool matches (requirements arch=arm64, capacity=on-demand" in line
    assert 'incompatible with nodepool "spark-on-demand"' in line and "daemonset overhead" not in line
    assert line.endswith("check placement / NodePool")
    assert kube_api.app_state("nopool-1", namespace=NAMESPACE) == "SUBMITTED"
    kube_api.wait_for(lambda: statsd.metrics("airflow_eks_data.startup.unschedulable"))
    assert statsd.metrics("airflow_eks_data.startup.unschedulable") == [
        ({**TAGS, "cause": "no_node", "role": "driver"}, "1|c")
    ]


def test_fail_fast_ends_the_wait_at_the_threshold(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("nopool-2", NoNodePool())
    submit(kube_api, "nopool-2")
    kube_api.wait_for(lambda: has_event(kube_api, "karpenter", "FailedScheduling"))
    event = asyncio.run(first_event(pending_trigger("nopool-2", 0.5, fail_fast=True, started_at=time.time() - 1)))
    classification, last_state = event_classification(event)
    assert classification.outcome is Outcome.FAILED  # waiting cannot help: not retried
    assert classification.reason.startswith("driver cannot be scheduled (no_node): no Karpenter NodePool matches")
    assert any("pending_explain_after=0.5s" in line for line in classification.evidence)
    assert last_state is None  # the application still exists: the operator cancels it


def test_quota_refusing_the_driver_is_explained(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("quota-1", QuotaExceeded())
    job = {"name": "trig", "tenant": "datalake", "main_application_file": "s3://a/job.py"}
    job["labels"] = {"team": "t", "cost-center": "c"}  # type: ignore[assignment]
    document = prepare(job, PROFILE_PATH, app_name="quota-1").document
    # The operator retries the submission, as a restartPolicy with submission retries makes it.
    document["spec"]["restartPolicy"] = {
        "type": "OnFailure",
        "onSubmissionFailureRetries": 1000,
        "onSubmissionFailureRetryInterval": 5,
    }
    kube_api.create("SparkApplication", document, namespace=NAMESPACE)
    kube_api.wait_for(lambda: has_event(kube_api, "spark-operator", "FailedCreate"))
    with structlog.testing.capture_logs() as logs:
        event = asyncio.run(first_event(pending_trigger("quota-1", 0.5, fail_fast=True, started_at=time.time() - 1)))
    [line] = explained(logs)
    assert line.startswith("datalake/quota-1: driver pod not created after ")
    assert "ResourceQuota compute-quota exceeded (requested: limits.cpu=1200m" in line
    classification, _ = event_classification(event)
    assert classification.outcome is Outcome.TIMED_OUT  # a quota frees up: Airflow retries apply
    assert "ResourceQuota compute-quota exceeded" in classification.reason


def test_yunikorn_queue_full_is_explained(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("queued-1", QueueFull())
    submit(kube_api, "queued-1")
    kube_api.wait_for(lambda: has_event(kube_api, "yunikorn", "Scheduling"))
    with structlog.testing.capture_logs() as logs:
        event = asyncio.run(first_event(pending_trigger("queued-1", 0.5, fail_fast=True, started_at=time.time() - 1)))
    [line] = explained(logs)
    assert "batch scheduler queue root.spark.datalake does not admit it yet (Request '" in line
    assert line.endswith("check the queue's limits (batch_scheduler.queue) or wait for its other applications")
    classification, _ = event_classification(event)
    assert classification.outcome is Outcome.TIMED_OUT and "(queue)" in classification.reason


def test_unschedulable_executors_are_explained(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("noexec-1", NoNodePool(executors_only=True))
    submit(kube_api, "noexec-1")
    kube_api.wait_for(lambda: has_event(kube_api, "karpenter", "FailedScheduling"))
    with structlog.testing.capture_logs() as logs:
        event = asyncio.run(first_event(pending_trigger("noexec-1", 0.5, fail_fast=True)))
    [line] = explained(logs)
    assert re.match(r"datalake/noexec-1: executors pending \w+ \(2 of 2, e\.g\. noexec-1-\w+-exec-\d\): ", line), line
    assert "no Karpenter NodePool matches (requirements arch=arm64, capacity=spot, local-nvme-gb>300" in line
    classification, _ = event_classification(event)
    assert classification.outcome is Outcome.FAILED
    assert classification.reason.startswith("executors cannot be scheduled (no_node)")
    assert kube_api.app_state("noexec-1", namespace=NAMESPACE) == "RUNNING"


def test_without_a_threshold_nothing_is_read(kube_api: KubeApiServer, kube_conn: str) -> None:
    """The sensor's wait (no threshold) reads no pods or events while the driver is pending."""
    kube_api.script("plain-1", NoNodePool())
    submit(kube_api, "plain-1")
    kube_api.wait_for(lambda: has_event(kube_api, "karpenter", "FailedScheduling"))
    t = SparkApplicationTrigger("plain-1", NAMESPACE, poll_interval=0.1, deadline=time.time() + 1.0)
    event = asyncio.run(first_event(t))
    assert event_classification(event)[0].outcome is Outcome.TIMED_OUT
    assert kube_api.counters.total(verb="list", resource="events") == 0
    assert kube_api.counters.total(verb="get", resource="pods") == 0
