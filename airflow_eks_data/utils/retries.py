"""The retry loops of every hook: one classifier (`outcomes.retrying.is_transient`), one backoff.

Shared by the sync hooks (worker) and the async ones (triggerer), Kubernetes and AWS alike. An
expired token (401) makes the caller rebuild its client before the next try, which is how EKS
tokens (about 15 minutes) are renewed; it keeps backing off meanwhile, since a refreshed token can
take a moment to appear. Each 401 spends a try of the same budget as any transient error.
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


def _pause(
    exc: BaseException,
    tries: int,
    backoff: Backoff,
    renew: object,
    retryable: Retryable,
    on_retry: OnRetry | None,
    rng: random.Random | None,
) -> tuple[float, bool] | None:
    """(delay, renew first) before the next try, or None when `exc` is to be raised."""
    err = api_error(exc)
    unauthorized = renew is not None and err.status == UNAUTHORIZED
    if tries >= backoff.max_tries or not (unauthorized or retryable(exc)):
        return None
    delay = backoff.delay(tries, rng or _RNG, err.retry_after_seconds)
    if on_retry is not None:
        on_retry(exc, tries, delay)
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
    """`call()`, retried while `retryable` says so, `backoff.max_tries` calls in all; on 401,
    `renew()` (rebuild the client) first."""
    tries = 0
    while True:
        tries += 1
        try:
            return call()
        except Exception as exc:
            pause = _pause(exc, tries, backoff, renew, retryable, on_retry, rng)
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
    tries = 0
    while True:
        tries += 1
        try:
            return await call()
        except Exception as exc:
            pause = _pause(exc, tries, backoff, renew, retryable, on_retry, rng)
            if pause is None:
                raise
            renewed = renew() if pause[1] and renew is not None else None
            if asyncio.iscoroutine(renewed):
                await renewed
            await asyncio.sleep(pause[0])
