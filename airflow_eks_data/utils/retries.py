"""The retry loops of every hook: one classifier (`outcomes.retrying.is_transient`), one backoff.

Shared by the sync hooks (worker) and the async ones (triggerer), Kubernetes and AWS alike. An
expired token (401) makes the caller rebuild its client before the next try, which is how EKS
tokens (about 15 minutes) are renewed; it keeps backing off meanwhile, since a refreshed token can
take a moment to appear. 401s have a budget of their own, as large as the transient one: a token
rotating while the API also throttles must not spend the throttling's tries.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from airflow_eks_data.outcomes.retrying import UNAUTHORIZED, Backoff, api_error, is_transient

T = TypeVar("T")
KUBE_RETRIES = Backoff(max_tries=8, base_seconds=0.5, cap_seconds=15.0)
"""The Kubernetes hooks' budget per call."""
Retryable = Callable[[BaseException], bool]
OnRetry = Callable[[BaseException, int, float], None]
"""Told (error, tries so far, delay) before each pause: counters and logs."""
_RNG = random.Random()


class _Tries:
    """Failed calls so far, transient and 401 apart, and what to do about the last one."""

    def __init__(self, backoff: Backoff, renew: object, retryable: Retryable, on_retry: OnRetry | None) -> None:
        self.backoff, self.renew, self.retryable, self.on_retry = backoff, renew, retryable, on_retry
        self.transient = self.unauthorized = 0

    def pause(self, exc: BaseException, rng: random.Random | None) -> tuple[float, bool] | None:
        """(delay, renew first) before the next call, or None when `exc` is to be raised."""
        err = api_error(exc)
        unauthorized = self.renew is not None and err.status == UNAUTHORIZED
        if not (unauthorized or self.retryable(exc)):
            return None
        if unauthorized:
            self.unauthorized += 1
        else:
            self.transient += 1
        count = self.unauthorized if unauthorized else self.transient
        if count >= self.backoff.max_tries:
            return None
        delay = self.backoff.delay(count, rng or _RNG, err.retry_after_seconds)
        if self.on_retry is not None:
            self.on_retry(exc, self.transient + self.unauthorized, delay)
        return delay, unauthorized


def call_with_retries(
    call: Callable[[], T],
    *,
    renew: Callable[[], None] | None = None,
    backoff: Backoff = KUBE_RETRIES,
    retryable: Retryable = is_transient,
    on_retry: OnRetry | None = None,
    rng: random.Random | None = None,
) -> T:
    """`call()`, retried while `retryable` says so, up to `backoff.max_tries` failures of a kind; on
    401, `renew()` (rebuild the client) first."""
    tries = _Tries(backoff, renew, retryable, on_retry)
    while True:
        try:
            return call()
        except Exception as exc:
            pause = tries.pause(exc, rng)
            if pause is None:
                raise
            if pause[1] and renew is not None:
                renew()
            time.sleep(pause[0])


async def acall_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    renew: Callable[[], Any] | None = None,
    backoff: Backoff = KUBE_RETRIES,
    retryable: Retryable = is_transient,
    on_retry: OnRetry | None = None,
    rng: random.Random | None = None,
) -> T:
    """The async twin of `call_with_retries` (`renew` may be a coroutine function)."""
    tries = _Tries(backoff, renew, retryable, on_retry)
    while True:
        try:
            return await call()
        except Exception as exc:
            pause = tries.pause(exc, rng)
            if pause is None:
                raise
            renewed = renew() if pause[1] and renew is not None else None
            if asyncio.iscoroutine(renewed):
                await renewed
            await asyncio.sleep(pause[0])
