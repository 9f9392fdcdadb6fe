"""The trigger against the test API server: the shared watch, restarts, faults, deadlines and kills."""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any

import pytest
import structlog.testing

from airflow_eks_data.outcomes import Outcome
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.triggers import application_watch
from airflow_eks_data.triggers.application_watch import REGISTRY
from airflow_eks_data.triggers.events import event_classification
from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger
from tests.conftest import PROFILE_PATH
from tests.kubeapi.scenarios import Hold, Succeed
from tests.kubeapi.server import KubeApiServer

NAMESPACE = "datalake"


def submit(server: KubeApiServer, name: str) -> None:
    job = {"name": "trig", "tenant": "datalake", "main_application_file": "s3://a/job.py"}
    job["labels"] = {"team": "t", "cost-center": "c"}  # type: ignore[assignment]
    server.create("SparkApplication", prepare(job, PROFILE_PATH, app_name=name).document, namespace=NAMESPACE)


def import_string(classpath: str) -> Any:
    """What the triggerer does with a serialized trigger's classpath."""
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)


def trigger(name: str, **kwargs: Any) -> SparkApplicationTrigger:
    return SparkApplicationTrigger(name, NAMESPACE, **{"poll_interval": 0.5, **kwargs})


async def first_event(t: SparkApplicationTrigger) -> dict[str, Any]:
    async for event in t.run():
        return dict(event.payload)
    raise AssertionError("no event")


def test_serialize_round_trip() -> None:
    original = SparkApplicationTrigger(
        "app",
        "ns",
        "conn",
        started_at=1.0,
        deadline=2.0,
        startup_timeout=3.0,
        poll_interval=4.0,
        log_interval=6.0,
        delete_on_kill=False,
        state={"attempt": 2},
    )
    classpath, kwargs = original.serialize()
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


def test_completion_is_seen_through_the_watch(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("ok-*", Succeed(run_for=120.0))
    submit(kube_api, "ok-1")
    # The first look waits up to min(poll_interval, 5 s) for the watch to sync before a GET of its own:
    # 5 s, so that a loaded machine does not turn the watch's path into the fallback's.
    event = asyncio.run(first_event(trigger("ok-1", state={"attempt": 1}, poll_interval=5.0)))
    classification, state = event_classification(event)
    assert classification.outcome is Outcome.SUCCEEDED and state == "COMPLETED"
    assert event["state"] == {"attempt": 1}
    assert kube_api.counters.total(verb="get", resource="sparkapplications") == 0
    # What was seen while it ran comes back with the success, for the cost estimate, at no extra call.
    evidence = event["evidence"]
    assert evidence["driver_pod"]["status"]["startTime"] and evidence["driver_pod"]["spec"]["nodeName"]
    assert evidence["node_labels"]["karpenter.sh/capacity-type"] == "on-demand"
    assert kube_api.counters.total(verb="list", resource="events") == 0


def test_many_waits_share_one_watch(kube_api: KubeApiServer, kube_conn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(application_watch, "LIST_PAGE", 8)  # the namespace is listed in three pages
    kube_api.script("many-*", Succeed(run_for=30.0))
    names = [f"many-{i}" for i in range(20)]
    for name in names:
        submit(kube_api, name)

    async def all_events() -> list[dict[str, Any]]:
        return await asyncio.gather(*(first_event(trigger(name)) for name in names))

    events = asyncio.run(all_events())
    assert {event_classification(e)[0].outcome for e in events} == {Outcome.SUCCEEDED}
    assert kube_api.counters.total(verb="list", resource="sparkapplications") == 3
    assert kube_api.counters.total(verb="watch", resource="sparkapplications") == 1


def test_triggerer_restart_resumes_the_wait(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("restart-*", Succeed(run_for=30.0))
    submit(kube_api, "restart-1")
    first = trigger("restart-1")

    async def restart() -> dict[str, Any]:
        task = asyncio.create_task(first_event(first))
        await asyncio.sleep(0.5)
        task.cancel()  # the triggerer went away: cleanup, not a kill
        with pytest.raises(asyncio.CancelledError):
            await task
        assert REGISTRY.get(("kubernetes_default", NAMESPACE)) is None
        classpath, kwargs = first.serialize()
        return await first_event(import_string(classpath)(**kwargs))

    event = asyncio.run(restart())
    assert event_classification(event)[0].outcome is Outcome.SUCCEEDED
    assert kube_api.app_state("restart-1", namespace=NAMESPACE) == "COMPLETED"


def test_dropped_watches_and_410_lose_nothing(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("drop-*", Succeed(run_for=10.0))
    kube_api.faults.slow(2.0, verbs={"watch"}, times=1)  # the first watch arrives late...
    kube_api.faults.cut_watches(after_events=1)  # ...and every stream drops after one event
    submit(kube_api, "drop-1")

    async def wait_with_compaction() -> dict[str, Any]:
        task = asyncio.create_task(first_event(trigger("drop-1")))
        # Meanwhile the application finishes (0.5 s) and history is compacted: the version the
        # watch resumes from is gone (410), and only a new list can show the COMPLETED state.
        await asyncio.sleep(1.0)
        kube_api.compact()
        return await task

    event = asyncio.run(wait_with_compaction())
    assert event_classification(event)[0].outcome is Outcome.SUCCEEDED
    assert kube_api.counters.total(verb="list", resource="sparkapplications") >= 2


def test_a_slow_first_list_is_waited_for_not_bypassed(kube_api: KubeApiServer, kube_conn: str) -> None:
    """Ten thousand waits starting at once must not each GET their application because the first list
    of their namespace takes longer than the poll interval."""
    kube_api.script("slowlist-*", Succeed(run_for=20.0))
    kube_api.faults.slow(2.5, verbs={"list"}, resources={"sparkapplications"}, times=1)
    submit(kube_api, "slowlist-1")
    event = asyncio.run(first_event(trigger("slowlist-1", poll_interval=1.0)))
    assert event_classification(event)[0].outcome is Outcome.SUCCEEDED
    assert kube_api.counters.total(verb="get", resource="sparkapplications") == 0


def test_a_wait_on_a_healthy_watch_holds_no_timer() -> None:
    """Ten thousand running applications on a healthy watch must cost no wakeups: the wait sleeps until
    an update, a deadline of its own, or the watch going down."""
    watch = application_watch.ApplicationWatch(NAMESPACE, lambda: None)
    now = time.time()
    running = trigger("t", poll_interval=5.0, startup_timeout=60.0, started_at=now)
    watch.healthy_since = time.monotonic()
    assert running._wake_after(watch, "RUNNING", now, [None, None]) is None
    assert running._wake_after(watch, "RUNNING", now, [now + 2.0, None]) == 2.0  # a log read is due
    assert running._wake_after(watch, "SUBMITTED", now, [None]) == 60.0  # the startup timeout
    assert running._wake_after(watch, "SUBMITTED", now + 61.0, [None]) == 5.0  # past it: keep checking
    with_deadline = trigger("t", poll_interval=5.0, deadline=now + 1.0)
    assert with_deadline._wake_after(watch, "RUNNING", now, []) == 1.0
    watch.healthy_since = None
    assert running._wake_after(watch, "RUNNING", now, [None]) == 5.0  # the fallback polls


def test_a_watch_that_goes_down_wakes_its_waits_to_look_for_themselves(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("down-*", Hold())
    submit(kube_api, "down-1")

    def gets() -> int:
        return kube_api.counters.total(verb="get", resource="sparkapplications")

    async def until(predicate: Any) -> None:
        for _ in range(400):
            if predicate():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("timed out")

    async def scenario() -> dict[str, Any]:
        task = asyncio.create_task(first_event(trigger("down-1", poll_interval=0.5)))
        key = ("kubernetes_default", NAMESPACE)
        await until(lambda: (w := REGISTRY.get(key)) is not None and w.healthy and w.subscribers)
        await until(lambda: kube_api.app_state("down-1", namespace=NAMESPACE) == "RUNNING")
        assert gets() == 0  # parked on the watch, no timer: only the watch could wake it
        kube_api.faults.error(500, verbs={"watch"}, resources={"sparkapplications"})
        assert kube_api.expire_watches() == 1  # the stream ends with 410; relisted, it cannot watch
        await until(lambda: gets() >= 1)  # the watch woke the wait, which now looks for itself
        kube_api.delete("SparkApplication", "down-1", namespace=NAMESPACE)
        return await asyncio.wait_for(task, 20)

    event = asyncio.run(scenario())
    assert event_classification(event)[0].outcome is Outcome.CANCELLED


def test_deadline_ends_the_wait_as_timed_out(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("slow-*", Hold())
    submit(kube_api, "slow-1")
    event = asyncio.run(first_event(trigger("slow-1", deadline=time.time() + 1.0)))
    assert event_classification(event)[0].outcome is Outcome.TIMED_OUT


def test_pending_past_the_startup_timeout_times_out(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("pending-*", Succeed(pending_for=10_000.0))
    submit(kube_api, "pending-1")
    event = asyncio.run(first_event(trigger("pending-1", startup_timeout=1.0)))
    classification, _ = event_classification(event)
    assert classification.outcome is Outcome.TIMED_OUT


@pytest.mark.parametrize("delete", [True, False])
def test_on_kill_deletes_only_what_the_task_owns(kube_api: KubeApiServer, kube_conn: str, delete: bool) -> None:
    kube_api.script("kill-*", Hold())
    submit(kube_api, "kill-1")
    asyncio.run(trigger("kill-1", delete_on_kill=delete).on_kill())
    exists = kube_api.get("SparkApplication", "kill-1", namespace=NAMESPACE) is not None
    assert exists is not delete


def test_driver_log_streams_while_the_application_runs(kube_api: KubeApiServer, kube_conn: str) -> None:
    kube_api.script("logs-1", Succeed(run_for=120.0))
    submit(kube_api, "logs-1")
    with structlog.testing.capture_logs() as logs:
        event = asyncio.run(first_event(trigger("logs-1", log_interval=0.3)))
    assert event_classification(event)[0].outcome is Outcome.SUCCEEDED
    messages = [str(e["event"]) % tuple(e.get("positional_args", ())) for e in logs]
    streamed = [m.removeprefix("driver: ") for m in messages if m.startswith("driver: ")]
    assert any("Executor 1 registered" in line for line in streamed), messages
    assert len(streamed) == len(set(streamed)), "a line was written twice"
