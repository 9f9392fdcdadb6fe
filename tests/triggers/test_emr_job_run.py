"""The EMR trigger against moto's server over HTTP: the shared poller, outcomes, deadlines, kills, faults."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_eks_data.outcomes import Outcome
from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger
from airflow_eks_data.triggers.events import event_classification
from airflow_eks_data.triggers.job_run_poller import JITTER, POLL_RETRIES, POLLERS
from tests.emr.moto_emr import RELEASE_LABEL, ROLE_ARN, EmrMoto

INTERVAL = 0.3


def start(server: EmrMoto, vc: str, name: str) -> str:
    request = {
        "name": name,
        "virtualClusterId": vc,
        "clientToken": f"token-{name}",
        "executionRoleArn": ROLE_ARN,
        "releaseLabel": RELEASE_LABEL,
        "jobDriver": {"sparkSubmitJobDriver": {"entryPoint": "s3://bucket/job.py"}},
    }
    return str(server.client("emr-containers").start_job_run(**request)["id"])


def trigger(vc: str, run_id: str, **kwargs: Any) -> EmrEksJobRunTrigger:
    kwargs.setdefault("started_at", time.time())
    return EmrEksJobRunTrigger(vc, run_id, poll_interval=INTERVAL, **kwargs)


async def first_event(t: EmrEksJobRunTrigger) -> dict[str, Any]:
    async for event in t.run():
        return dict(event.payload)
    raise AssertionError("no event")


def later(seconds: float, action: Callable[[], None]) -> None:
    asyncio.get_running_loop().call_later(seconds, action)


def import_string(classpath: str) -> Any:
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_serialize_round_trip() -> None:
    original = EmrEksJobRunTrigger(
        "vc",
        "run",
        "conn",
        "eu-west-1",
        started_at=1.0,
        deadline=2.0,
        poll_interval=3.0,
        cancel_on_kill=False,
        state={"attempt": 2},
    )
    classpath, kwargs = original.serialize()
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


def test_completion_is_seen_within_one_interval(moto_server: EmrMoto, aws_conn: str, virtual_cluster: str) -> None:
    run_id = start(moto_server, virtual_cluster, "ok")

    async def scenario() -> tuple[dict[str, Any], float]:
        finished_at: list[float] = []

        def finish() -> None:
            moto_server.set_state(run_id, "COMPLETED")
            finished_at.append(time.monotonic())

        later(1.0, finish)
        event = await first_event(trigger(virtual_cluster, run_id, state={"attempt": 1}))
        return event, time.monotonic() - finished_at[0]

    event, latency = asyncio.run(scenario())
    classification, last_state = event_classification(event)
    assert classification.outcome is Outcome.SUCCEEDED and last_state == "COMPLETED"
    assert (event["name"], event["namespace"], event["state"]) == (run_id, virtual_cluster, {"attempt": 1})
    assert latency <= INTERVAL + 1.0


@pytest.mark.parametrize(
    ("reason", "details", "outcome"),
    [
        ("USER_ERROR", "Job failed: exit code 1", Outcome.FAILED),
        ("VALIDATION_ERROR", "Invalid entry point", Outcome.FAILED),
        ("INTERNAL_ERROR", "Internal error", Outcome.INTERRUPTED),
        ("CLUSTER_UNAVAILABLE", "Virtual cluster unavailable", Outcome.INTERRUPTED),
        ("USER_ERROR", "Driver pod was evicted: spot node terminated", Outcome.INTERRUPTED),
    ],
)
def test_failures_carry_reason_and_details(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, reason: str, details: str, outcome: Outcome
) -> None:
    run_id = start(moto_server, virtual_cluster, "fails")

    async def scenario() -> dict[str, Any]:
        later(0.5, lambda: moto_server.set_state(run_id, "FAILED", reason, details))
        return await first_event(trigger(virtual_cluster, run_id))

    event = asyncio.run(scenario())
    assert event["evidence"]["job_run"]["failureReason"] == reason
    assert event["evidence"]["job_run"]["stateDetails"] == details
    assert event_classification(event)[0].outcome is outcome


def test_many_waits_share_one_sweep(moto_server: EmrMoto, aws_conn: str, virtual_cluster: str) -> None:
    run_ids = [start(moto_server, virtual_cluster, f"many-{i}") for i in range(30)]
    other = start(moto_server, virtual_cluster, "not-waited-on")
    moto_server.faults.reset_counts()

    async def scenario() -> tuple[list[dict[str, Any]], float, int]:
        for index, run_id in enumerate(run_ids):
            state = "FAILED" if index % 3 == 0 else "COMPLETED"
            later(0.5 + index * 0.05, lambda r=run_id, s=state: moto_server.set_state(r, s, "USER_ERROR"))  # type: ignore[misc]
        began = time.monotonic()
        waits = [asyncio.ensure_future(first_event(trigger(virtual_cluster, r))) for r in run_ids]
        await asyncio.sleep(0.1)
        pollers = len({id(POLLERS.get(("aws_default", None, virtual_cluster)))})
        events = await asyncio.gather(*waits)
        return events, time.monotonic() - began, pollers

    events, elapsed, pollers = asyncio.run(scenario())
    assert pollers == 1
    outcomes = [event_classification(e)[0].outcome for e in events]
    assert outcomes == [Outcome.FAILED if i % 3 == 0 else Outcome.SUCCEEDED for i in range(len(run_ids))]
    sweeps_possible = elapsed / (INTERVAL * (1 - JITTER)) + 1
    assert moto_server.faults.calls["ListJobRuns"] <= sweeps_possible
    assert moto_server.faults.calls["DescribeJobRun"] == outcomes.count(Outcome.FAILED)  # COMPLETED: from the list
    assert moto_server.state(other) == "RUNNING"


def test_a_run_that_already_ended_is_settled_by_the_first_sweep(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str
) -> None:
    run_id = start(moto_server, virtual_cluster, "done")
    moto_server.set_state(run_id, "COMPLETED")
    began = time.monotonic()
    event = asyncio.run(first_event(trigger(virtual_cluster, run_id)))
    assert event_classification(event)[0].outcome is Outcome.SUCCEEDED
    assert time.monotonic() - began < 2.0


def test_unknown_creation_time_is_learnt_once(moto_server: EmrMoto, aws_conn: str, virtual_cluster: str) -> None:
    run_id = start(moto_server, virtual_cluster, "elsewhere")
    moto_server.faults.reset_counts()

    async def scenario() -> dict[str, Any]:
        later(1.0, lambda: moto_server.set_state(run_id, "CANCELLED", state_details="cancelled by someone"))
        return await first_event(trigger(virtual_cluster, run_id, started_at=None))

    event = asyncio.run(scenario())
    assert event_classification(event)[0].outcome is Outcome.CANCELLED
    assert moto_server.faults.calls["DescribeJobRun"] == 2  # to learn createdAt, and once it was cancelled
    assert moto_server.faults.calls["ListJobRuns"] >= 2


def test_missing_run_ends_as_cancelled_elsewhere(aws_conn: str, virtual_cluster: str) -> None:
    event = asyncio.run(first_event(trigger(virtual_cluster, "0000000000000000000", started_at=None)))
    classification, _ = event_classification(event)
    assert classification.outcome is Outcome.CANCELLED
    assert "not found" in event["evidence"]["detail"]


def test_deadline_ends_the_wait(moto_server: EmrMoto, aws_conn: str, virtual_cluster: str) -> None:
    run_id = start(moto_server, virtual_cluster, "slow")
    now = time.time()
    event = asyncio.run(first_event(trigger(virtual_cluster, run_id, started_at=now, deadline=now + 3.0)))
    classification, last_state = event_classification(event)
    assert classification.outcome is Outcome.TIMED_OUT and last_state == "RUNNING"
    assert moto_server.state(run_id) == "RUNNING"  # the operator cancels it, having decided


@pytest.mark.parametrize("cancel_on_kill", [True, False])
def test_on_kill_cancels_only_when_asked(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, cancel_on_kill: bool
) -> None:
    run_id = start(moto_server, virtual_cluster, "killed")
    asyncio.run(trigger(virtual_cluster, run_id, cancel_on_kill=cancel_on_kill).on_kill())
    assert moto_server.state(run_id) == ("CANCELLED" if cancel_on_kill else "RUNNING")
    asyncio.run(trigger(virtual_cluster, run_id).on_kill())  # already cancelled: tolerated


def test_triggerer_restart_resumes_the_wait(moto_server: EmrMoto, aws_conn: str, virtual_cluster: str) -> None:
    run_id = start(moto_server, virtual_cluster, "restart")
    first = trigger(virtual_cluster, run_id)

    async def restart() -> dict[str, Any]:
        task = asyncio.ensure_future(first_event(first))
        await asyncio.sleep(0.5)
        task.cancel()  # the triggerer went away: cleanup, not a kill
        with pytest.raises(asyncio.CancelledError):
            await task
        assert POLLERS.get(("aws_default", None, virtual_cluster)) is None
        assert moto_server.state(run_id) == "RUNNING"
        later(0.5, lambda: moto_server.set_state(run_id, "COMPLETED"))
        classpath, kwargs = first.serialize()
        return await first_event(import_string(classpath)(**kwargs))

    assert event_classification(asyncio.run(restart()))[0].outcome is Outcome.SUCCEEDED


def test_throttling_stretches_the_interval_but_loses_nothing(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str
) -> None:
    run_ids = [start(moto_server, virtual_cluster, f"throttled-{i}") for i in range(10)]
    moto_server.faults.configure(0.2, ("throttle", "500", "503"), seed=7)
    reasons = ["USER_ERROR", None] * 5

    async def scenario() -> list[dict[str, Any]]:
        for run_id, reason in zip(run_ids, reasons, strict=True):
            state = "FAILED" if reason else "COMPLETED"
            later(0.5, lambda r=run_id, s=state, why=reason: moto_server.set_state(r, s, why))  # type: ignore[misc]
        return await asyncio.gather(*(first_event(trigger(virtual_cluster, r)) for r in run_ids))

    events = asyncio.run(scenario())
    outcomes = [event_classification(e)[0].outcome for e in events]
    assert outcomes == [Outcome.FAILED, Outcome.SUCCEEDED] * 5
    assert sum(moto_server.faults.injected.values()) > 0
    assert moto_server.faults.calls["DescribeJobRun"] < 3 * len(run_ids)


@pytest.mark.parametrize("kind", ["408", "503"])
def test_list_errors_past_the_sweep_retries_do_not_end_the_wait(
    moto_server: EmrMoto, aws_conn: str, virtual_cluster: str, kind: str
) -> None:
    """A sweep retries ListJobRuns `POLL_RETRIES.max_tries` times; past that the wait goes on and the
    next sweep tries again (the campaign's "503 on ListJobRuns" must never fail a wait)."""
    run_id = start(moto_server, virtual_cluster, f"flaky-{kind}")
    moto_server.faults.fail_next("ListJobRuns", kind, times=POLL_RETRIES.max_tries + 1)

    async def scenario() -> dict[str, Any]:
        later(0.5, lambda: moto_server.set_state(run_id, "COMPLETED"))
        return await first_event(trigger(virtual_cluster, run_id))

    event = asyncio.run(scenario())
    assert event_classification(event)[0].outcome is Outcome.SUCCEEDED
    assert moto_server.faults.calls["ListJobRuns"] >= POLL_RETRIES.max_tries + 2
    assert moto_server.faults.injected[kind] == POLL_RETRIES.max_tries + 1
