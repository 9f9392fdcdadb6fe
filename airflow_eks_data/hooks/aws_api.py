"""The glue every AWS hook of this package shares: the connection, the retry rule, pagination, submission.

`RetryingAwsHook` is the amazon provider's `AwsBaseHook` (credentials, role, region and endpoint from
the `aws` connection) plus the one transient-error rule and full-jitter backoff of `utils.retries`,
for boto3 (worker) and aiobotocore (triggerer) alike. A subclass names its `aws_service`, nothing else.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from airflow_eks_data.outcomes.retrying import Backoff, api_error, is_transient
from airflow_eks_data.outcomes.submission import SUBMIT_RETRIES, SubmissionVerdict, back_pressure, submission_verdict
from airflow_eks_data.utils.retries import OnRetry, Retryable, acall_with_retries, call_with_retries

log = logging.getLogger(__name__)
T = TypeVar("T")
READ_RETRIES = Backoff(max_tries=6, base_seconds=0.5, cap_seconds=20.0)
NOT_FOUND = "ResourceNotFoundException"


class SubmissionFailed(RuntimeError):
    """StartJobRun gave up. `verdict.infrastructure` says whether back-pressure outlasted the retries
    (the attempt may be retried by Airflow) or the request itself was refused (it will fail again)."""

    def __init__(self, verdict: SubmissionVerdict, cause: BaseException) -> None:
        super().__init__(f"StartJobRun failed: {verdict.reason}")
        self.verdict = verdict
        self.__cause__ = cause


@dataclass(frozen=True)
class JobRunListing:
    """One paginated listing: the items, how many calls it took, and how many of those botocore
    itself had to retry (a throttling signal the caller backs off on)."""

    runs: list[dict[str, Any]]
    calls: int
    retried: int


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


def log_places(
    cloudwatch: Mapping[str, Any] | None, s3: Mapping[str, Any] | None, path: str, region: str | None
) -> dict[str, Any]:
    """Where EMR writes a run's logs: the CloudWatch stream prefix and the S3 folder for `path`
    (`<location>/jobs/<job run>`) under the `cloudwatch` and `s3` monitoring settings given."""
    found: dict[str, Any] = {}
    if cloudwatch and cloudwatch.get("logGroupName"):
        prefix = cloudwatch.get("logStreamNamePrefix")
        found["cloudwatch"] = {
            "log_group": cloudwatch["logGroupName"],
            "log_stream_prefix": f"{prefix}/{path}" if prefix else path,
            "region": region,
        }
    if s3 and s3.get("logUri"):
        found["s3"] = f"{str(s3['logUri']).rstrip('/')}/{path}/"
    return found


def submittable(exc: BaseException) -> bool:
    """Worth another StartJobRun: transient, or back-pressure only a submission meets (quota, full queue)."""
    return back_pressure(api_error(exc)) is not None


class RetryingAwsHook(AwsBaseHook):
    """`AwsBaseHook` for `client_type`, every call retried on the shared rule, with a count of retries."""

    aws_service: ClassVar[str]
    """The boto3 client type, e.g. `emr-serverless`."""
    ending: ClassVar[Collection[str]] = frozenset()
    """Run states in which CancelJobRun is refused because the run is over or being cancelled."""

    def __init__(
        self,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        *,
        retry: Backoff | None = None,
        rng: random.Random | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["client_type"] = type(self).aws_service
        super().__init__(aws_conn_id=aws_conn_id, region_name=region_name, **kwargs)
        self.retry_settings = retry or READ_RETRIES
        self.rng = rng or random.Random()
        self.retries = 0
        """Calls retried so far: a poller stretches its interval while this grows."""

    def _on_retry(self, what: str) -> OnRetry:
        def note(exc: BaseException, tries: int, delay: float) -> None:
            self.retries += 1
            cause = back_pressure(api_error(exc)) or type(exc).__name__
            log.warning("%s: %s; retrying in %.1fs (try %d)", what, cause, delay, tries)

        return note

    # -- boto3 (worker) ---------------------------------------------------------------------

    def _retrying(
        self, call: Callable[[], T], what: str, settings: Backoff | None = None, retryable: Retryable = is_transient
    ) -> T:
        return call_with_retries(
            call,
            backoff=settings or self.retry_settings,
            retryable=retryable,
            on_retry=self._on_retry(what),
            rng=self.rng,
        )

    def _submit(self, call: Callable[[], T], what: str, settings: Backoff = SUBMIT_RETRIES) -> T:
        """A submission retried through back-pressure; `SubmissionFailed` (with the verdict) when it gives up."""
        try:
            return self._retrying(call, what, settings, submittable)
        except Exception as exc:
            verdict = submission_verdict(
                api_error(exc), tries_so_far=settings.max_tries, settings=settings, rng=self.rng
            )
            raise SubmissionFailed(verdict, exc) from exc

    def _pages(self, operation: str, what: str, key: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every page of a `nextToken` listing, each page retried on its own."""
        params, items = dict(params), []
        while True:
            page = self._retrying(lambda: getattr(self.conn, operation)(**params), what)
            items += jsonable(page.get(key, []))
            if not page.get("nextToken"):
                return items
            params["nextToken"] = page["nextToken"]

    def _or_none(
        self, call: Callable[[], Mapping[str, Any]], what: str, key: str, missing: Collection[str] = (NOT_FOUND,)
    ) -> Any:
        """The response's `key`, or None when the call is refused with one of the `missing` codes."""
        try:
            response = self._retrying(call, what)
        except Exception as exc:
            if error_code(exc) in missing:
                return None
            raise
        return jsonable(response.get(key))

    def _cancel(self, call: Callable[[], object], describe: Callable[[], Mapping[str, Any] | None]) -> bool:
        """CancelJobRun; False if the run had already ended (or never existed), True if cancelled."""
        try:
            self._retrying(call, "CancelJobRun")
        except Exception as exc:
            if not self._cancel_refused(exc):
                raise
            return False if error_code(exc) == NOT_FOUND else self._ended(exc, describe())
        return True

    def _cancel_refused(self, exc: BaseException) -> bool:
        return error_code(exc) in {NOT_FOUND, "ValidationException"}

    def _ended(self, exc: BaseException, run: Mapping[str, Any] | None) -> bool:
        """After a ValidationException: False (nothing to cancel) if the run is gone or ending, else raise."""
        if run is None or run.get("state") in self.ending:
            return False
        raise exc

    # -- aiobotocore (triggerer) ------------------------------------------------------------

    @asynccontextmanager
    async def client(self) -> AsyncIterator[Any]:
        """One aiobotocore client: a poller keeps it, and its connection pool, for its lifetime."""
        async with await self.get_async_conn() as client:  # type: ignore[no-untyped-call]
            yield client

    async def _acall(self, client: Any, operation: str, what: str, **params: Any) -> dict[str, Any]:
        """`operation(**params)` on `client` (None: a client opened for this call), retried."""
        if client is None:
            async with self.client() as opened:
                return await self._acall(opened, operation, what, **params)
        call: Callable[[], Awaitable[dict[str, Any]]] = lambda: getattr(client, operation)(**params)  # noqa: E731
        return await acall_with_retries(call, backoff=self.retry_settings, on_retry=self._on_retry(what), rng=self.rng)

    async def _aor_none(self, client: Any, operation: str, what: str, key: str, **params: Any) -> Any:
        """The response's `key`, or None if the resource does not exist."""
        try:
            response = await self._acall(client, operation, what, **params)
        except Exception as exc:
            if error_code(exc) == NOT_FOUND:
                return None
            raise
        return jsonable(response[key])

    async def _acancel(
        self, client: Any, describe: Callable[[], Awaitable[Mapping[str, Any] | None]], **params: Any
    ) -> bool:
        """CancelJobRun; False if it had already ended or does not exist."""
        try:
            await self._acall(client, "cancel_job_run", "CancelJobRun", **params)
        except Exception as exc:
            if not self._cancel_refused(exc):
                raise
            return False if error_code(exc) == NOT_FOUND else self._ended(exc, await describe())
        return True

    async def _apages(
        self,
        client: Any,
        operation: str,
        what: str,
        key: str,
        params: Mapping[str, Any],
        on_page: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> JobRunListing:
        """Every page of a listing, with how many calls it took and how many botocore itself retried
        (a throttling signal); `on_page` sees each page as it arrives."""
        if client is None:
            async with self.client() as opened:
                return await self._apages(opened, operation, what, key, params, on_page)
        params, items, calls, retried = dict(params), [], 0, 0
        while True:
            calls += 1
            page = await self._acall(client, operation, what, **params)
            retried += int(bool((page.get("ResponseMetadata") or {}).get("RetryAttempts")))
            found = jsonable(page.get(key, []))
            items += found
            if on_page is not None:
                on_page(found)
            if not page.get("nextToken"):
                return JobRunListing(items, calls, retried)
            params["nextToken"] = page["nextToken"]


class AsyncJobRunHook(RetryingAwsHook):
    """The triggerer's DescribeJobRun and CancelJobRun, alike but for the parameter names."""

    run_keys: ClassVar[tuple[str, str]]
    """The request's names for the run's location and id, e.g. `("applicationId", "jobRunId")`."""
    describe_call: ClassVar[tuple[str, str]] = ("describe_job_run", "DescribeJobRun")

    async def describe_job_run(self, location: str, job_run_id: str, *, client: Any = None) -> dict[str, Any] | None:
        """The `jobRun` (state, stateDetails, failure reason), or None if there is no such run."""
        operation, what = self.describe_call
        params = dict(zip(self.run_keys, (location, job_run_id), strict=True))
        run: dict[str, Any] | None = await self._aor_none(client, operation, what, "jobRun", **params)
        return run

    async def cancel_job_run(self, location: str, job_run_id: str, *, client: Any = None) -> bool:
        """CancelJobRun; False if it had already ended or does not exist."""
        params = dict(zip(self.run_keys, (location, job_run_id), strict=True))
        return await self._acancel(client, lambda: self.describe_job_run(location, job_run_id, client=client), **params)
