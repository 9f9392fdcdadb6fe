"""The EMR Serverless trigger against moto's server over HTTP: one sweep per application, outcomes,
service retries, deadlines, kills."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

import pytest

from airflow_eks_data.outcomes import Outcome
from airflow_eks_data.triggers.emr_serverless_job_run import EmrServerlessJobRunTrigger
from airflow_eks_data.triggers.events import event_classification
from airflow_eks_data.triggers.job_run_poller import JITTER, POLLERS
from tests.emr.moto_emr import ROLE_ARN
from tests.emr.moto_serverless import ServerlessMoto
from tests.triggers.test_emr_job_run import first_event, import_string, later

INTERVAL = 0.3


def start(server: ServerlessMoto, app: str, name: str) -> str:
    driver = {"sparkSubmit": {"entryPoint": "s3://bucket/job.py"}}
    request = {
        "applicationId": app,
        "clientToken": name,
        "executionRoleArn": ROLE_ARN,
        "jobDriver": driver,
        "name": name,
    }
    return str(server.client("emr-serverless").start_job_run(**request)["jobRunId"])


def trigger(app: str, run_id: str, **kwargs: Any) -> EmrServerlessJobRunTrigger:
    kwargs.setdefault("started_at", time.time())
    return EmrServerlessJobRunTrigger(app, run_id, poll_interval=INTERVAL, **kwargs)


def test_serialize_round_trip() -> None:
    original = EmrServerlessJobRunTrigger(
        "app", "run", "conn", "eu-west-1", started_at=1.0, deadline=2.0, state={"a": 1}
    )
    classpath, kwargs = original.serialize()
    assert kwargs["application_id"] == "app"
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


def test_many_waits_share_one_sweep(serverless_server: ServerlessMoto, serverless_conn: str, application: str) -> None:
    run_ids = [start(serverless_server, application, f"many-{i}") for i in range(30)]
    other = start(serverless_server, application, "not-waited-on")
    serverless_server.faults.reset_counts()

    async def scenario() -> tuple[list[dict[str, Any]], float, int]:
        for index, run_id in enumerate(run_ids):
            state, details = ("FAILED", "Job failed: exit code 1") if index % 3 == 0 else ("SUCCESS", None)
            later(0.5 + index * 0.05, partial(serverless_server.set_state, run_id, state, state_details=details))
        began = time.monotonic()
        waits = [asyncio.ensure_future(first_event(trigger(application, r))) for r in run_ids]  # type: ignore[arg-type]
        await asyncio.sleep(0.1)
        pollers = len({id(POLLERS.get(("aws_default", None, application)))})
        events = await asyncio.gather(*waits)
        return events, time.monotonic() - began, pollers

    events, elapsed, pollers = asyncio.run(scenario())
    assert pollers == 1
    outcomes = [event_classification(e)[0].outcome for e in events]
    assert outcomes == [Outcome.FAILED if i % 3 == 0 else Outcome.SUCCEEDED for i in range(len(run_ids))]
    assert serverless_server.faults.calls["ListJobRuns"] <= elapsed / (INTERVAL * (1 - JITTER)) + 1
    failed = sum(1 for i in range(len(run_ids)) if i % 3 == 0)
    assert serverless_server.faults.calls["GetJobRun"] == failed  # a success settles from the listing
    assert serverless_server.faults.calls["ListJobRunAttempts"] == 0
    assert events[1]["evidence"]["job_run"]["state"] == "SUCCESS"
    assert events[0]["evidence"]["job_run"]["stateDetails"] == "Job failed: exit code 1"
    assert serverless_server.job_run(other).state == "SUBMITTED"


@pytest.mark.parametrize(
    ("details", "outcome"),
    [
        ("Job failed, please check complete logs: exit code 1", Outcome.FAILED),
        ("java.lang.ClassNotFoundException: com.example.Main", Outcome.FAILED),
        ("Insufficient capacity in the account to run the job", Outcome.INTERRUPTED),
        ("Internal service error", Outcome.INTERRUPTED),
    ],
)
def test_a_failing_run_carries_its_state_details(
    serverless_server: ServerlessMoto, serverless_conn: str, application: str, details: str, outcome: Outcome
) -> None:
    run_id = start(serverless_server, application, "fails")

    async def scenario() -> dict[str, Any]:
        later(0.5, lambda: serverless_server.set_state(run_id, "FAILED", state_details=details))
        return await first_event(trigger(application, run_id, state={"attempt": 3}))  # type: ignore[arg-type]

    event = asyncio.run(scenario())
    classification, last_state = event_classification(event)
    assert (classification.outcome, last_state) == (outcome, "FAILED")
    assert (event["name"], event["namespace"], event["state"]) == (run_id, application, {"attempt": 3})


def test_a_service_retry_is_in_the_evidence(
    serverless_server: ServerlessMoto, serverless_conn: str, application: str
) -> None:
    run_id = start(serverless_server, application, "retried")

    async def scenario() -> dict[str, Any]:
        later(0.4, lambda: serverless_server.retry(run_id, "Worker lost"))
        later(0.9, lambda: serverless_server.set_state(run_id, "SUCCESS"))
        return await first_event(trigger(application, run_id))  # type: ignore[arg-type]

    event = asyncio.run(scenario())
    classification, _ = event_classification(event)
    assert classification.outcome is Outcome.SUCCEEDED
    assert [a["attempt"] for a in event["evidence"]["attempts"]] == [1, 2]
    assert any("retried the run itself: attempt 2" in line for line in classification.evidence)


def test_unknown_creation_time_and_missing_runs(
    serverless_server: ServerlessMoto, serverless_conn: str, application: str
) -> None:
    run_id = start(serverless_server, application, "elsewhere")
    serverless_server.set_state(run_id, "CANCELLED", state_details="cancelled by someone")
    event = asyncio.run(first_event(trigger(application, run_id, started_at=None)))  # type: ignore[arg-type]
    assert event_classification(event)[0].outcome is Outcome.CANCELLED
    missing = asyncio.run(first_event(trigger(application, "00nosuchrun", started_at=None)))  # type: ignore[arg-type]
    assert (
        event_classification(missing)[0].outcome is Outcome.CANCELLED and "not found" in missing["evidence"]["detail"]
    )


def test_deadline_ends_the_wait(serverless_server: ServerlessMoto, serverless_conn: str, application: str) -> None:
    run_id = start(serverless_server, application, "slow")
    now = time.time()
    event = asyncio.run(first_event(trigger(application, run_id, started_at=now, deadline=now + 1.0)))  # type: ignore[arg-type]
    classification, last_state = event_classification(event)
    assert classification.outcome is Outcome.TIMED_OUT and last_state == "SUBMITTED"


@pytest.mark.parametrize("cancel_on_kill", [True, False])
def test_on_kill_cancels_only_when_asked(
    serverless_server: ServerlessMoto, serverless_conn: str, application: str, cancel_on_kill: bool
) -> None:
    run_id = start(serverless_server, application, "killed")
    asyncio.run(trigger(application, run_id, cancel_on_kill=cancel_on_kill).on_kill())
    assert serverless_server.job_run(run_id).state == ("CANCELLING" if cancel_on_kill else "SUBMITTED")
