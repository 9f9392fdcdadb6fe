"""Backoff for API calls: throttling and server errors are retried, everything else is raised at once.

Shared by the sync hooks (worker) and the async ones (triggerer). An expired token (401) makes the
caller rebuild its client before the next try, which is how EKS tokens (about 15 minutes) are renewed;
it keeps backing off meanwhile, since a refreshed token can take a moment to appear.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
UNAUTHORIZED = 401


class RetryPolicy:
    """Jittered exponential backoff, honouring `Retry-After`, bounded in attempts."""

    def __init__(self, attempts: int = 8, base: float = 0.5, cap: float = 15.0, rng: random.Random | None = None):
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds before retry number `retry` (1-based)."""
        ceiling = min(self.cap, self.base * 2.0 ** (retry - 1))
        jittered = ceiling / 2 + self.rng.random() * ceiling / 2
        return max(jittered, min(retry_after or 0.0, self.cap))


def status_of(exc: BaseException) -> int | None:
    """HTTP status of an API exception from either Kubernetes client, else None."""
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def retry_after_of(exc: BaseException) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_transient(exc: BaseException) -> bool:
    """Throttling, 5xx, dropped connections and timeouts: worth another try."""
    status = status_of(exc)
    if status is not None:
        return status in TRANSIENT_STATUSES
    return isinstance(exc, ConnectionError | TimeoutError | OSError) or type(exc).__name__ in {
        "MaxRetryError",
        "ProtocolError",
        "ClientConnectionError",
        "ClientOSError",
        "ServerDisconnectedError",
        "ClientPayloadError",
    }


def call_with_retries(
    call: Callable[[], T], *, renew: Callable[[], None] | None = None, policy: RetryPolicy | None = None
) -> T:
    """`call()`, retried on transient errors; on 401, `renew()` (rebuild the client) first."""
    policy = policy or RetryPolicy()
    for retry in range(1, policy.attempts + 1):
        try:
            return call()
        except Exception as exc:
            unauthorized = status_of(exc) == UNAUTHORIZED and renew is not None
            if not (unauthorized or is_transient(exc)) or retry == policy.attempts:
                raise
            if unauthorized and renew is not None:
                renew()
            time.sleep(policy.delay(retry, retry_after_of(exc)))
    raise AssertionError("unreachable")  # pragma: no cover


async def acall_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    renew: Callable[[], Any] | None = None,
    policy: RetryPolicy | None = None,
) -> T:
    """The async twin of `call_with_retries`."""
    policy = policy or RetryPolicy()
    for retry in range(1, policy.attempts + 1):
        try:
            return await call()
        except Exception as exc:
            unauthorized = status_of(exc) == UNAUTHORIZED and renew is not None
            if not (unauthorized or is_transient(exc)) or retry == policy.attempts:
                raise
            if unauthorized and renew is not None:
                result = renew()
                if asyncio.iscoroutine(result):
                    await result
            await asyncio.sleep(policy.delay(retry, retry_after_of(exc)))
    raise AssertionError("unreachable")  # pragma: no cover
