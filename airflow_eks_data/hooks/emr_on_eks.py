"""EMR on EKS (`emr-containers`) access on the amazon provider's AWS hooks and `aws` connection.

Credentials, role assumption, region and endpoint come from the connection through `AwsBaseHook`
(never a hand-built boto3 session), so whatever works for the amazon provider's own operators works
here. `EmrEksHook` serves the worker: upload pod templates, submit, find a run again, cancel.
`AsyncEmrEksHook` serves the triggerer (aiobotocore): the paginated ListJobRuns sweep and the
DescribeJobRun of runs that ended.

Every call is retried on the one transient-error rule (`outcomes.retrying.is_transient`: 408, 429,
AWS throttling codes, 5xx, dropped connections) with full-jitter backoff; StartJobRun also waits out
quota and a full virtual-cluster queue (`submission.back_pressure`). Anything else is raised at once,
because it would fail the same way again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from airflow_eks_data.outcomes.retrying import Backoff, api_error, is_transient
from airflow_eks_data.outcomes.states import EMR_JOB_RUN
from airflow_eks_data.outcomes.submission import SUBMIT_RETRIES, SubmissionVerdict, back_pressure, submission_verdict
from airflow_eks_data.utils.retries import Retryable, acall_with_retries, call_with_retries

log = logging.getLogger(__name__)
T = TypeVar("T")

NOT_FOUND = "ResourceNotFoundException"
READ_RETRIES = Backoff(max_tries=6, base_seconds=0.5, cap_seconds=20.0)
ENDING = EMR_JOB_RUN.terminal | {"CANCEL_PENDING"}
"""States in which CancelJobRun is refused because the run is already over or being cancelled."""


def _submittable(exc: BaseException) -> bool:
    return back_pressure(api_error(exc)) is not None


class SubmissionFailed(RuntimeError):
    """StartJobRun gave up. `verdict.infrastructure` says whether back-pressure outlasted the retries
    (the attempt may be retried by Airflow) or the request itself was refused (it will fail again)."""

    def __init__(self, verdict: SubmissionVerdict, cause: BaseException) -> None:
        super().__init__(f"StartJobRun failed: {verdict.reason}")
        self.verdict = verdict
        self.__cause__ = cause


def error_code(exc: BaseException) -> str | None:
    return api_error(exc).code


def jsonable(value: Any) -> Any:
    """An API response as plain JSON types (timestamps as ISO strings), without `ResponseMetadata`:
    job runs travel in trigger events and XCom."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def log_locations(
    monitoring: Mapping[str, Any] | None, virtual_cluster_id: str, job_run_id: str, region: str | None
) -> dict[str, Any]:
    """Where EMR on EKS writes this run's logs, from the request's `monitoringConfiguration`.

    EMR's layout: CloudWatch streams `<prefix>/<virtual cluster>/jobs/<job run>/...` and S3 objects
    under `<logUri>/<virtual cluster>/jobs/<job run>/`.
    """
    monitoring = monitoring or {}
    found: dict[str, Any] = {}
    cloudwatch = monitoring.get("cloudWatchMonitoringConfiguration") or {}
    if cloudwatch.get("logGroupName"):
        prefix = cloudwatch.get("logStreamNamePrefix")
        stream = f"{virtual_cluster_id}/jobs/{job_run_id}"
        found["cloudwatch"] = {
            "log_group": cloudwatch["logGroupName"],
            "log_stream_prefix": f"{prefix}/{stream}" if prefix else stream,
            "region": region,
        }
    s3 = monitoring.get("s3MonitoringConfiguration") or {}
    if s3.get("logUri"):
        found["s3"] = f"{str(s3['logUri']).rstrip('/')}/{virtual_cluster_id}/jobs/{job_run_id}/"
    return found


class _EmrEksBase(AwsBaseHook):
    """`AwsBaseHook` for the `emr-containers` client, plus the retry rule."""

    hook_name = "EMR on EKS (airflow-eks-data)"

    def __init__(
        self,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        *,
        retry: Backoff | None = None,
        rng: random.Random | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["client_type"] = "emr-containers"
        super().__init__(aws_conn_id=aws_conn_id, region_name=region_name, **kwargs)
        self.retry_settings = retry or READ_RETRIES
        self.rng = rng or random.Random()
        self.retries = 0
        """Calls retried so far because of back-pressure: a poller stretches its interval when it grows."""

    def _on_retry(self, what: str) -> Callable[[BaseException, int, float], None]:
        def note(exc: BaseException, tries: int, delay: float) -> None:
            self.retries += 1
            cause = back_pressure(api_error(exc)) or type(exc).__name__
            log.warning("%s: %s; retrying in %.1fs (try %d)", what, cause, delay, tries)

        return note


class EmrEksHook(_EmrEksBase):
    """Worker-side EMR on EKS calls (boto3)."""

    def _retrying(
        self, call: Callable[[], T], what: str, settings: Backoff | None = None, retryable: Retryable = is_transient
    ) -> T:
        backoff = settings or self.retry_settings
        note = self._on_retry(what)
        return call_with_retries(call, backoff=backoff, retryable=retryable, on_retry=note, rng=self.rng)

    def upload_pod_templates(self, templates: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """Write each pod template (YAML) to its `s3://` URI, skipping keys that already exist.

        The renderer names templates by a hash of their content, so an existing key already holds
        exactly this template: a retried attempt or a thousand runs of one job upload it once.
        Returns the URIs written.
        """
        import yaml
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=self.config)
        written: list[str] = []
        for uri, pod in templates.items():
            bucket, key = S3Hook.parse_s3_url(uri)
            if self._retrying(partial(s3.check_for_key, key, bucket), f"HeadObject {uri}"):
                continue
            body = yaml.safe_dump(dict(pod), sort_keys=False)
            self._retrying(partial(s3.load_string, body, key, bucket, replace=True), f"PutObject {uri}")
            written.append(uri)
        return written

    def start_job_run(self, request: Mapping[str, Any], settings: Backoff = SUBMIT_RETRIES) -> dict[str, Any]:
        """StartJobRun, idempotent through the request's `clientToken`: a repeated call, after a lost
        response or a worker crash, returns the run the first call started. Back-pressure is retried
        (default: 8 tries, 2 s doubling to 60 s); raises `SubmissionFailed` when it gives up."""
        if not request.get("clientToken"):
            raise ValueError("StartJobRun needs a deterministic clientToken for idempotent submission")
        try:
            response = self._retrying(lambda: self.conn.start_job_run(**request), "StartJobRun", settings, _submittable)
        except Exception as exc:
            tries = settings.max_tries
            verdict = submission_verdict(api_error(exc), tries_so_far=tries, settings=settings, rng=self.rng)
            raise SubmissionFailed(verdict, exc) from exc
        return jsonable({key: response[key] for key in ("id", "name", "arn", "virtualClusterId") if key in response})  # type: ignore[no-any-return]

    def list_job_runs(
        self,
        virtual_cluster_id: str,
        *,
        name: str | None = None,
        states: Collection[str] | None = None,
        created_after: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """ListJobRuns with its server-side filters, every page."""
        params: dict[str, Any] = {"virtualClusterId": virtual_cluster_id}
        if name:
            params["name"] = name
        if states:
            params["states"] = sorted(states)
        if created_after is not None:
            params["createdAfter"] = created_after
        runs: list[dict[str, Any]] = []
        while True:
            page = self._retrying(partial(self.conn.list_job_runs, **params), "ListJobRuns")
            runs += jsonable(page.get("jobRuns", []))
            if not page.get("nextToken"):
                return runs
            params["nextToken"] = page["nextToken"]

    def find_job_runs(
        self,
        virtual_cluster_id: str,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        states: Collection[str] | None = None,
        created_after: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Runs of this name whose tags include `tags`, newest first: how a retry finds the run an
        earlier try started (ListJobRuns cannot filter by tag, so tags are matched here)."""
        runs = self.list_job_runs(virtual_cluster_id, name=name, states=states, created_after=created_after)
        wanted = dict(tags or {})
        matching = [
            run
            for run in runs
            if (name is None or run.get("name") == name)
            and all((run.get("tags") or {}).get(k) == v for k, v in wanted.items())
        ]
        return sorted(matching, key=lambda run: str(run.get("createdAt") or ""), reverse=True)

    def describe_job_run(self, virtual_cluster_id: str, job_run_id: str) -> dict[str, Any] | None:
        """DescribeJobRun's `jobRun`, or None if there is no such run in that virtual cluster."""
        try:
            response = self._retrying(
                lambda: self.conn.describe_job_run(virtualClusterId=virtual_cluster_id, id=job_run_id),
                "DescribeJobRun",
            )
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                return None
            raise
        return jsonable(response["jobRun"])  # type: ignore[no-any-return]

    def cancel_job_run(self, virtual_cluster_id: str, job_run_id: str) -> bool:
        """CancelJobRun; False if the run had already ended (or never existed), True if cancelled."""
        try:
            self._retrying(
                lambda: self.conn.cancel_job_run(virtualClusterId=virtual_cluster_id, id=job_run_id), "CancelJobRun"
            )
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                return False
            if error_code(exc) != "ValidationException":
                raise
            run = self.describe_job_run(virtual_cluster_id, job_run_id)
            if run is None or run.get("state") in ENDING:
                return False
            raise
        log.info("Cancelled EMR job run %s in virtual cluster %s", job_run_id, virtual_cluster_id)
        return True


@dataclass(frozen=True)
class JobRunListing:
    """One paginated ListJobRuns: the runs, how many calls it took, and how many of those botocore
    itself had to retry (a throttling signal the caller backs off on)."""

    runs: list[dict[str, Any]]
    calls: int
    retried: int


class AsyncEmrEksHook(_EmrEksBase):
    """Triggerer-side EMR on EKS calls (aiobotocore, through `AwsBaseHook.get_async_conn`).

    Methods take an open `client` (from `client()`) so that a poller reuses one connection pool for
    its lifetime; without one they open a client for the call.
    """

    @asynccontextmanager
    async def client(self) -> AsyncIterator[Any]:
        async with await self.get_async_conn() as client:  # type: ignore[no-untyped-call]
            yield client

    async def _call(self, client: Any, operation: str, what: str, **params: Any) -> dict[str, Any]:
        if client is None:
            async with self.client() as opened:
                return await self._call(opened, operation, what, **params)
        return await self._aretrying(lambda: getattr(client, operation)(**params), what)

    async def _aretrying(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        return await acall_with_retries(call, backoff=self.retry_settings, on_retry=self._on_retry(what), rng=self.rng)

    async def list_job_runs(
        self,
        virtual_cluster_id: str,
        created_after: datetime | None = None,
        states: Collection[str] | None = None,
        *,
        client: Any = None,
        page_size: int | None = None,
        on_page: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> JobRunListing:
        """Every page of ListJobRuns filtered by creation time and state. Each page is retried on its
        own, so a throttled page does not restart the sweep; `on_page` sees each page as it arrives,
        so runs on the first pages are settled without waiting for the last."""
        if client is None:
            async with self.client() as opened:
                return await self.list_job_runs(
                    virtual_cluster_id, created_after, states, client=opened, page_size=page_size, on_page=on_page
                )
        params: dict[str, Any] = {"virtualClusterId": virtual_cluster_id}
        if created_after is not None:
            params["createdAfter"] = created_after
        if states:
            params["states"] = sorted(states)
        if page_size:
            params["maxResults"] = page_size
        runs: list[dict[str, Any]] = []
        calls = retried = 0
        while True:
            calls += 1
            page = await self._call(client, "list_job_runs", "ListJobRuns", **params)
            retried += int(bool((page.get("ResponseMetadata") or {}).get("RetryAttempts")))
            found = jsonable(page.get("jobRuns", []))
            runs += found
            if on_page is not None:
                on_page(found)
            if not page.get("nextToken"):
                return JobRunListing(runs, calls, retried)
            params["nextToken"] = page["nextToken"]

    async def describe_job_run(
        self, virtual_cluster_id: str, job_run_id: str, *, client: Any = None
    ) -> dict[str, Any] | None:
        """DescribeJobRun's `jobRun` (failureReason, stateDetails, retryPolicyExecution), or None."""
        try:
            response = await self._call(
                client, "describe_job_run", "DescribeJobRun", virtualClusterId=virtual_cluster_id, id=job_run_id
            )
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                return None
            raise
        return jsonable(response["jobRun"])  # type: ignore[no-any-return]

    async def cancel_job_run(self, virtual_cluster_id: str, job_run_id: str, *, client: Any = None) -> bool:
        """CancelJobRun; False if it had already ended or does not exist."""
        try:
            await self._call(
                client, "cancel_job_run", "CancelJobRun", virtualClusterId=virtual_cluster_id, id=job_run_id
            )
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                return False
            if error_code(exc) != "ValidationException":
                raise
            run = await self.describe_job_run(virtual_cluster_id, job_run_id, client=client)
            if run is None or run.get("state") in ENDING:
                return False
            raise
        return True
