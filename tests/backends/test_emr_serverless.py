"""`EmrServerlessBackend` against moto's server: idempotent submit, reattach after a worker died, cancel, links."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_eks_data.backends.base import Attempt, Connections
from airflow_eks_data.backends.emr_serverless import EmrServerlessBackend
from airflow_eks_data.pipeline import Prepared, prepare
from airflow_eks_data.runs.state import Run
from tests.emr.moto_serverless import ServerlessMoto
from tests.operators.test_spark_on_eks_emr import JOB
from tests.operators.test_spark_on_eks_emr_serverless import profile_for

KEY = "0123456789abcdefghij"


def prepared(path: Path, attempt: int = 1) -> Prepared:
    return prepare(JOB, path, target="emr_serverless", app_name=f"compact-events-{KEY[:10]}-1-{attempt}")


def test_submit_is_idempotent_and_reattach_finds_the_run(
    serverless_server: ServerlessMoto, serverless_conn: str, tmp_path: Path
) -> None:
    application = serverless_server.create_application("CREATED")
    path = profile_for(application, tmp_path)
    backend = EmrServerlessBackend(Connections())
    first = backend.submit(prepared(path), Attempt(KEY, 1, 1))
    again = EmrServerlessBackend(Connections()).submit(prepared(path), Attempt(KEY, 1, 1))  # a new worker repeats it
    assert again.name == first.name and first.location == application
    assert len(serverless_server.job_runs(application)) == 1
    serverless_server.faults.reset_counts()
    job = prepared(path).job
    assert backend.reattach(job, KEY, None) == first  # the worker died: found by its tags
    assert serverless_server.faults.calls["GetJobRun"] == 1  # only the candidate named by the task key
    assert backend.reattach(job, "another-task-key-000", None) is None
    assert backend.reattach(job, KEY, Run(name="00nosuchrun", location=application)) == first
    serverless_server.set_state(first.name, "FAILED", state_details="exit code 1")
    assert backend.reattach(job, KEY, first) is None  # failed runs are not adopted


def test_looking_for_a_run_reads_tags_only_of_runs_named_for_the_task(
    serverless_server: ServerlessMoto, serverless_conn: str, tmp_path: Path
) -> None:
    """The look before every first submission must not cost a GetJobRun per recent run of the
    application (at 150 jobs an hour, that was 44 GetJobRun per job in the fault campaign)."""
    application = serverless_server.create_application()
    path = profile_for(application, tmp_path)
    backend = EmrServerlessBackend(Connections())
    for n in range(30):
        other = f"ff{n:02d}{KEY[4:]}"  # another task's key
        backend.submit(
            prepare(JOB, path, target="emr_serverless", app_name=f"compact-{other[:10]}-1-1"), Attempt(other, 1, 1)
        )
    serverless_server.faults.reset_counts()
    assert backend.reattach(prepared(path).job, KEY, None) is None
    assert serverless_server.faults.calls["GetJobRun"] == 0
    assert serverless_server.faults.calls["ListJobRuns"] == 2  # active, then succeeded


def test_cancel_links_and_result(serverless_server: ServerlessMoto, serverless_conn: str, tmp_path: Path) -> None:
    application = serverless_server.create_application()
    path = profile_for(application, tmp_path)
    backend = EmrServerlessBackend(Connections())
    run = backend.submit(prepared(path), Attempt(KEY, 1, 1))
    links = backend.links(prepared(path).job, run, run.name)
    assert run.name in str(links["spark_ui"]) and "emrappui" in str(links["spark_ui"])
    result = backend.result(run, prepared(path).job)
    assert result["log_locations"]["cloudwatch"]["log_group"] == "/emr-serverless/compaction"
    assert backend.log_tail(run, 10) == []
    backend.cancel(run)
    assert serverless_server.job_run(run.name).state == "CANCELLING"
    backend.cancel(run)  # already cancelling: tolerated


def test_an_unexpected_release_is_refused(
    serverless_server: ServerlessMoto, serverless_conn: str, tmp_path: Path
) -> None:
    application = serverless_server.create_application(release_label="emr-6.15.0")
    with pytest.raises(AirflowFailException, match=r"emr-6\.15\.0"):
        EmrServerlessBackend(Connections()).submit(prepared(profile_for(application, tmp_path)), Attempt(KEY, 1, 1))
    assert serverless_server.job_runs(application) == []
