"""`EmrServerlessHook` / `AsyncEmrServerlessHook` against moto's server over HTTP (`tests/emr/moto_serverless.py`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from airflow_eks_data.hooks.aws_api import SubmissionFailed
from airflow_eks_data.hooks.emr_serverless import ApplicationUnavailable, AsyncEmrServerlessHook, EmrServerlessHook
from airflow_eks_data.outcomes import Backoff
from tests.emr.moto_emr import ROLE_ARN
from tests.emr.moto_serverless import ServerlessMoto

FAST = Backoff(max_tries=4, base_seconds=0.01, cap_seconds=0.05)


def request(app: str, token: str = "token-1", **extra: Any) -> dict[str, Any]:
    driver = {"sparkSubmit": {"entryPoint": "s3://bucket/job.py"}}
    return {"applicationId": app, "clientToken": token, "executionRoleArn": ROLE_ARN, "jobDriver": driver, **extra}


def hook() -> EmrServerlessHook:
    return EmrServerlessHook(retry=FAST)


def test_start_is_idempotent_by_client_token(
    serverless_conn: str, serverless_server: ServerlessMoto, application: str
) -> None:
    first = hook().start_job_run(request(application), FAST)
    assert hook().start_job_run(request(application), FAST) == first
    assert hook().start_job_run(request(application, "token-2"), FAST)["jobRunId"] != first["jobRunId"]
    assert len(serverless_server.job_runs(application)) == 2
    with pytest.raises(ValueError, match="clientToken"):
        hook().start_job_run(request(application, ""))


@pytest.mark.parametrize("state", ["CREATED", "STOPPED"])
def test_a_stopped_application_is_started_first(
    serverless_conn: str, serverless_server: ServerlessMoto, state: str
) -> None:
    app = serverless_server.create_application(state)
    emr = hook()
    assert emr.start_application(app, poll=0.05)["state"] == "STARTED"
    assert serverless_server.faults.calls["StartApplication"] == 1
    assert emr.start_application(app)["state"] == "STARTED"  # already started: no second StartApplication
    assert serverless_server.faults.calls["StartApplication"] == 1


def test_an_application_that_cannot_start_says_why(serverless_conn: str, serverless_server: ServerlessMoto) -> None:
    app = serverless_server.create_application("TERMINATED")
    with pytest.raises(ApplicationUnavailable, match="TERMINATED"):
        hook().start_job_run(request(app))
    with pytest.raises(ApplicationUnavailable, match="does not exist"):
        hook().start_application("00nosuchapp")
    assert serverless_server.faults.calls["StartJobRun"] == 0


def test_back_pressure_is_retried_and_refusals_fail_at_once(
    serverless_conn: str, serverless_server: ServerlessMoto, application: str
) -> None:
    for kind in ("throttle", "500", "503"):
        serverless_server.faults.fail_next("StartJobRun", kind)
    hook().start_job_run(request(application), FAST)
    assert serverless_server.faults.calls["StartJobRun"] == 4
    serverless_server.faults.fail_next("StartJobRun", "throttle", times=FAST.max_tries)
    with pytest.raises(SubmissionFailed) as held:
        hook().start_job_run(request(application, "t2"), FAST)
    assert held.value.verdict.infrastructure
    with pytest.raises(SubmissionFailed) as refused:  # moto: a role in another account is AccessDenied
        hook().start_job_run(request(application, "t3", executionRoleArn="arn:aws:iam::999999999999:role/x"), FAST)
    assert not refused.value.verdict.infrastructure and "AccessDenied" in refused.value.verdict.reason


def test_reads_filters_dashboard_attempts_and_cancel(
    serverless_conn: str, serverless_server: ServerlessMoto, application: str
) -> None:
    emr = hook()
    ids = [emr.start_job_run(request(application, f"t{i}"), FAST)["jobRunId"] for i in range(3)]
    serverless_server.set_state(ids[0], "SUCCESS")
    now = datetime.now(UTC)
    assert {
        r["id"] for r in emr.list_job_runs(application, states=["SUBMITTED"], created_after=now - timedelta(minutes=5))
    } == set(ids[1:])
    assert emr.list_job_runs(application, created_after=now + timedelta(minutes=5)) == []
    run = emr.get_job_run(application, ids[0])
    assert run is not None and run["state"] == "SUCCESS" and isinstance(run["createdAt"], str)
    assert emr.get_job_run(application, "00nosuchrun") is None
    assert ids[0] in str(emr.get_dashboard_for_job_run(application, ids[0]))
    serverless_server.retry(ids[1], "Insufficient capacity")
    assert [a["attempt"] for a in emr.list_job_run_attempts(application, ids[1])] == [1, 2]
    assert emr.cancel_job_run(application, ids[1]) is True
    assert emr.cancel_job_run(application, ids[0]) is False  # SUCCESS
    assert emr.cancel_job_run(application, "00nosuchrun") is False


def test_async_listing_pages_describe_and_cancel(
    serverless_conn: str, serverless_server: ServerlessMoto, application: str
) -> None:
    client = serverless_server.client("emr-serverless")
    ids = [client.start_job_run(**request(application, f"t{i}"))["jobRunId"] for i in range(120)]

    async def scenario() -> tuple[Any, Any, Any, bool]:
        emr = AsyncEmrServerlessHook(retry=FAST)
        async with emr.client() as c:
            listing = await emr.list_job_runs(
                application, datetime.now(UTC) - timedelta(minutes=5), ["SUBMITTED"], client=c
            )
            described = await emr.describe_job_run(application, ids[0], client=c)
            missing = await emr.describe_job_run(application, "00nosuchrun", client=c)
            cancelled = await emr.cancel_job_run(application, ids[0], client=c)
        return listing, described, missing, cancelled

    listing, described, missing, cancelled = asyncio.run(scenario())
    assert len(listing.runs) == 120 and listing.calls == 2  # moto pages by 100
    assert described["jobRunId"] == ids[0] and missing is None and cancelled


@pytest.mark.parametrize("kind", ["408", "503", "throttle"])
@pytest.mark.parametrize("client", ["sync", "async"])
def test_reads_retry_transient_errors_up_to_the_budget(
    serverless_conn: str, serverless_server: ServerlessMoto, application: str, kind: str, client: str
) -> None:
    def call() -> object:
        if client == "sync":
            return hook().list_job_runs(application)
        return asyncio.run(AsyncEmrServerlessHook(retry=FAST).list_job_runs(application)).runs

    serverless_server.faults.fail_next("ListJobRuns", kind, times=FAST.max_tries - 1)
    assert call() == []
    assert serverless_server.faults.calls["ListJobRuns"] == FAST.max_tries
    serverless_server.faults.fail_next("ListJobRuns", kind, times=FAST.max_tries)
    with pytest.raises(ClientError):
        call()
