"""`EmrEksHook` / `AsyncEmrEksHook` against moto's server over HTTP, through the `aws` connection."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook, EmrEksHook, SubmissionFailed, log_locations
from airflow_eks_data.outcomes import Backoff
from airflow_eks_data.pipeline import prepare
from tests.conftest import EXAMPLES, PROFILE_PATH
from tests.emr.fixtures import create_virtual_cluster
from tests.emr.moto_emr import REGION, RELEASE_LABEL, ROLE_ARN, EmrMoto

FAST = Backoff(max_tries=4, base_seconds=0.01, cap_seconds=0.05)
JOBS = sorted((EXAMPLES / "jobs").glob("*.yaml"))


def request(vc: str, name: str = "job", token: str = "token-1", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "virtualClusterId": vc,
        "clientToken": token,
        "executionRoleArn": ROLE_ARN,
        "releaseLabel": RELEASE_LABEL,
        "jobDriver": {"sparkSubmitJobDriver": {"entryPoint": "s3://bucket/job.py"}},
        **extra,
    }


def hook() -> EmrEksHook:
    return EmrEksHook(retry=FAST)


def test_connection_supplies_region_and_endpoint(aws_conn: str, moto_server: EmrMoto) -> None:
    emr = hook()
    assert emr.conn_region_name == REGION
    assert emr.conn.meta.endpoint_url == moto_server.url


@pytest.mark.parametrize("job_path", JOBS, ids=[p.stem for p in JOBS])
@pytest.mark.parametrize("tenant", ["datalake", "analytics"])
def test_every_rendered_request_is_accepted(
    aws_conn: str, moto_server: EmrMoto, virtual_cluster: str, job_path: Path, tenant: str
) -> None:
    """The renderer's request passes botocore's validation and the API; its templates are pods."""
    moto_server.client("s3").create_bucket(
        Bucket="example-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    text = job_path.read_text()
    if tenant == "analytics":  # the restricted tenant: its own prefixes and pinned team
        text = text.replace("s3://example-artifacts/", "s3://example-artifacts/analytics/")
        text = text.replace("s3://example-lake/", "s3://example-lake/analytics/").replace("data-platform", "analytics")
    job = yaml.safe_load(text)
    job["tenant"] = tenant
    document = prepare(job, PROFILE_PATH, target="emr_on_eks", app_name="compaction-run-1").document
    emr = hook()
    assert sorted(emr.upload_pod_templates(document["podTemplates"])) == sorted(document["podTemplates"])
    sent = {**document["request"], "virtualClusterId": virtual_cluster}
    started = emr.start_job_run(sent)
    described = emr.describe_job_run(virtual_cluster, started["id"])
    assert described is not None
    assert described["jobDriver"] == sent["jobDriver"]
    assert described["configurationOverrides"] == sent["configurationOverrides"]
    assert described["tags"] == sent["tags"]
    properties = sent["configurationOverrides"]["applicationConfiguration"][0]["properties"]
    for role in ("driver", "executor"):
        uri = properties[f"spark.kubernetes.{role}.podTemplateFile"]
        assert uri in document["podTemplates"]
        assert_valid_pod(read_s3(moto_server, uri), role)


def read_s3(server: EmrMoto, uri: str) -> dict[str, Any]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = server.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return dict(yaml.safe_load(body))


def assert_valid_pod(pod: dict[str, Any], role: str) -> None:
    """Deserialise with the Kubernetes client's own V1Pod model, as Spark's pod template loader would parse it."""
    from kubernetes.client import ApiClient  # type: ignore[import-untyped]

    class _Response:
        data = json.dumps(pod)

    parsed = ApiClient().deserialize(_Response(), "V1Pod")
    assert parsed.api_version == "v1" and parsed.kind == "Pod"
    names = [container.name for container in parsed.spec.containers]
    assert f"spark-kubernetes-{role}" in names


def test_pod_templates_are_uploaded_once(aws_conn: str, moto_server: EmrMoto) -> None:
    moto_server.client("s3").create_bucket(Bucket="templates", CreateBucketConfiguration={"LocationConstraint": REGION})
    templates = {"s3://templates/t/0123-driver.yaml": {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": []}}}
    assert hook().upload_pod_templates(templates) == ["s3://templates/t/0123-driver.yaml"]
    puts = moto_server.faults.calls["s3:PUT"]
    assert hook().upload_pod_templates(templates) == []
    assert moto_server.faults.calls["s3:PUT"] == puts


def test_start_is_idempotent_by_client_token(aws_conn: str, moto_server: EmrMoto, virtual_cluster: str) -> None:
    emr = hook()
    first = emr.start_job_run(request(virtual_cluster))
    assert emr.start_job_run(request(virtual_cluster)) == first
    assert emr.start_job_run(request(virtual_cluster, token="token-2"))["id"] != first["id"]
    assert len(moto_server.runs(virtual_cluster)) == 2


def test_start_requires_a_client_token(aws_conn: str, virtual_cluster: str) -> None:
    with pytest.raises(ValueError, match="clientToken"):
        hook().start_job_run(request(virtual_cluster, token=""))


def test_back_pressure_is_retried(aws_conn: str, moto_server: EmrMoto, virtual_cluster: str) -> None:
    for kind in ("throttle", "500", "queue_full"):
        moto_server.faults.fail_next("StartJobRun", kind)
    started = hook().start_job_run(request(virtual_cluster), FAST)
    assert moto_server.faults.calls["StartJobRun"] == 4
    assert moto_server.state(started["id"]) == "RUNNING"


def test_back_pressure_that_persists_gives_up_as_infrastructure(
    aws_conn: str, moto_server: EmrMoto, virtual_cluster: str
) -> None:
    moto_server.faults.fail_next("StartJobRun", "queue_full", times=10)
    with pytest.raises(SubmissionFailed) as failed:
        hook().start_job_run(request(virtual_cluster), FAST)
    assert failed.value.verdict.infrastructure
    assert moto_server.faults.calls["StartJobRun"] == FAST.max_tries


def test_a_full_queue_is_waited_out_and_takes_the_run_once(aws_conn: str, moto_server: EmrMoto) -> None:
    """A real queue (schedulerConfiguration), not an injected fault: with `maxInQueueJobRuns` runs
    waiting, StartJobRun is refused; once the scheduler admits one, the retried call goes through,
    and a repeat of a queued run's token returns that run instead of queueing another."""
    cluster = create_virtual_cluster(moto_server, scheduler={"maxConcurrentJobRuns": 1, "maxInQueueJobRuns": 100})
    emr = hook()
    queued = [emr.start_job_run(request(cluster, f"j{n}", f"t{n}"), FAST)["id"] for n in range(100)]
    status = moto_server.client("emr-containers").describe_virtual_cluster(id=cluster)["virtualCluster"]
    assert status["schedulerStatus"] == {"currentInQueueJobRuns": 100, "currentConcurrentJobRuns": 0}
    assert emr.start_job_run(request(cluster, "j0", "t0"), FAST)["id"] == queued[0]
    with pytest.raises(SubmissionFailed) as failed:
        emr.start_job_run(request(cluster, "late", "t-late"), FAST)
    assert failed.value.verdict.infrastructure and "queue full" in failed.value.verdict.reason
    assert moto_server.admit(queued[0]) and not moto_server.admit(queued[1])
    late = emr.start_job_run(request(cluster, "late", "t-late"), FAST)
    assert moto_server.state(late["id"]) == "SUBMITTED" and len(moto_server.runs(cluster)) == 101


def test_a_refused_request_fails_at_once(aws_conn: str, moto_server: EmrMoto, virtual_cluster: str) -> None:
    with pytest.raises(SubmissionFailed) as failed:
        hook().start_job_run(request(virtual_cluster, releaseLabel="emr-7.2.1-latest"), FAST)
    assert not failed.value.verdict.infrastructure
    assert "ResourceNotFoundException" in failed.value.verdict.reason
    assert moto_server.faults.calls["StartJobRun"] == 1


def test_find_by_name_and_tags(aws_conn: str, virtual_cluster: str) -> None:
    emr = hook()
    mine = emr.start_job_run(request(virtual_cluster, "nightly", "t1", tags={"task": "a", "try": "1"}))
    emr.start_job_run(request(virtual_cluster, "nightly", "t2", tags={"task": "b"}))
    emr.start_job_run(request(virtual_cluster, "nightly-2", "t3", tags={"task": "a"}))
    found = emr.find_job_runs(virtual_cluster, name="nightly", tags={"task": "a"}, states=["RUNNING"])
    assert [run["id"] for run in found] == [mine["id"]]
    assert emr.find_job_runs(virtual_cluster, name="nightly", tags={"task": "a"}, states=["COMPLETED"]) == []


def test_describe_and_cancel_tolerate_what_is_gone(aws_conn: str, moto_server: EmrMoto, virtual_cluster: str) -> None:
    emr = hook()
    run_id = emr.start_job_run(request(virtual_cluster))["id"]
    assert emr.describe_job_run(virtual_cluster, "0000000000000000000") is None
    assert emr.cancel_job_run(virtual_cluster, run_id) is True
    assert moto_server.state(run_id) == "CANCELLED"
    assert emr.cancel_job_run(virtual_cluster, run_id) is False
    assert emr.cancel_job_run(virtual_cluster, "0000000000000000000") is False
    done = emr.start_job_run(request(virtual_cluster, token="done"))["id"]
    moto_server.set_state(done, "COMPLETED")
    assert emr.cancel_job_run(virtual_cluster, done) is False


def test_reads_survive_twenty_percent_faults(aws_conn: str, moto_server: EmrMoto, virtual_cluster: str) -> None:
    emr = hook()
    run_id = emr.start_job_run(request(virtual_cluster))["id"]
    moto_server.faults.configure(0.2, ("throttle", "500", "503"), seed=3)
    for _ in range(20):
        described = emr.describe_job_run(virtual_cluster, run_id)
        assert described is not None and described["state"] == "RUNNING"
    assert sum(moto_server.faults.injected.values()) > 0


def test_async_listing_pages_and_filters(aws_conn: str, moto_server: EmrMoto, virtual_cluster: str) -> None:
    client = moto_server.client("emr-containers")
    ids = [client.start_job_run(**request(virtual_cluster, f"r{i}", f"t{i}"))["id"] for i in range(120)]
    moto_server.set_state(ids[0], "COMPLETED")
    now = datetime.now(UTC)

    async def scenario() -> tuple[Any, Any, Any, Any]:
        emr = AsyncEmrEksHook(retry=FAST)
        async with emr.client() as c:
            active = await emr.list_job_runs(virtual_cluster, now - timedelta(minutes=5), ["RUNNING"], client=c)
            later = await emr.list_job_runs(virtual_cluster, now + timedelta(minutes=5), ["RUNNING"], client=c)
            described = await emr.describe_job_run(virtual_cluster, ids[0], client=c)
            missing = await emr.describe_job_run(virtual_cluster, "0000000000000000000", client=c)
        return active, later, described, missing

    active, later, described, missing = asyncio.run(scenario())
    assert len(active.runs) == 119 and active.calls == 2  # moto pages by 100
    assert later.runs == [] and later.calls == 1
    assert described["state"] == "COMPLETED" and isinstance(described["createdAt"], str)
    assert missing is None


def test_async_cancel(aws_conn: str, moto_server: EmrMoto, virtual_cluster: str) -> None:
    run_id = hook().start_job_run(request(virtual_cluster))["id"]
    assert asyncio.run(AsyncEmrEksHook().cancel_job_run(virtual_cluster, run_id)) is True
    assert asyncio.run(AsyncEmrEksHook().cancel_job_run(virtual_cluster, run_id)) is False


def test_log_locations_follow_the_monitoring_configuration() -> None:
    monitoring = {
        "cloudWatchMonitoringConfiguration": {"logGroupName": "/emr/c", "logStreamNamePrefix": "compaction"},
        "s3MonitoringConfiguration": {"logUri": "s3://logs/emr/"},
    }
    assert log_locations(monitoring, "vc1", "jr1", REGION) == {
        "cloudwatch": {"log_group": "/emr/c", "log_stream_prefix": "compaction/vc1/jobs/jr1", "region": REGION},
        "s3": "s3://logs/emr/vc1/jobs/jr1/",
    }
    assert log_locations(None, "vc1", "jr1", None) == {}


@pytest.mark.parametrize("kind", ["408", "503", "throttle"])
@pytest.mark.parametrize("client", ["sync", "async"])
def test_reads_retry_transient_errors_up_to_the_budget(
    aws_conn: str, moto_server: EmrMoto, virtual_cluster: str, kind: str, client: str
) -> None:
    def call() -> object:
        if client == "sync":
            return hook().list_job_runs(virtual_cluster)
        return asyncio.run(AsyncEmrEksHook(retry=FAST).list_job_runs(virtual_cluster)).runs

    moto_server.faults.fail_next("ListJobRuns", kind, times=FAST.max_tries - 1)
    assert call() == []
    assert moto_server.faults.calls["ListJobRuns"] == FAST.max_tries
    moto_server.faults.fail_next("ListJobRuns", kind, times=FAST.max_tries)
    with pytest.raises(ClientError):
        call()
    assert moto_server.faults.calls["ListJobRuns"] == 2 * FAST.max_tries
