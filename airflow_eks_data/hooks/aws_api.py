"""The glue every AWS hook of this package shares: the connection, the retry rule, pagination, submission.

`RetryingAwsHook` is the amazon provider's `AwsBaseHook` (credentials, role, region and endpoint from
the `aws` connection) plus the one transient-error rule and full-jitter backoff of `utils.retries`,
for boto3 (worker) and aiobotocore (triggerer) alike. A subclass names its `aws_service`, nothing else.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar, TypeVar

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

from airflow_eks_data.hooks.emr_on_eks import JobRunListing, SubmissionFailed, jsonable
from airflow_eks_data.outcomes.retrying import Backoff, api_error, is_transient
from airflow_eks_data.outcomes.submission import SUBMIT_RETRIES, back_pressure, submission_verdict
from airflow_eks_data.utils.retries import OnRetry, Retryable, acall_with_retries, call_with_retries

log = logging.getLogger(__name__)
T = TypeVar("T")
READ_RETRIES = Backoff(max_tries=6, base_seconds=0.5, cap_seconds=20.0)


def submittable(exc: BaseException) -> bool:
    """Worth another StartJobRun: transient, or back-pressure only a submission meets (quota, full queue)."""
    return back_pressure(api_error(exc)) is not None


class RetryingAwsHook(AwsBaseHook):
    """`AwsBaseHook` for `client_type`, every call retried on the shared rule, with a count of retries."""

    aws_service: ClassVar[str]
    """The boto3 client type, e.g. `emr-serverless`."""

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
