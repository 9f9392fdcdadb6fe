"""The one rule for transient API errors and the one backoff, for every call that retries.

Kubernetes (sync urllib3, async kubernetes_asyncio/aiohttp) and AWS (botocore, aiobotocore) fail in
different shapes; `api_error` reads each into the same facts so one classifier decides for all of
them: the request timed out (408), was throttled (429, AWS Throttling*), hit a server error (5xx) or
never got an answer. Delays are full jitter, so callers that failed together spread over the whole
window instead of retrying in step. Pure: duck-typed on the exceptions, no client imports, no I/O.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from airflow_eks_data.outcomes.model import FrozenModel

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
UNAUTHORIZED = 401
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerException",
        "InternalServerError",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
TRANSPORT_ERRORS = frozenset(
    {
        # urllib3 (sync kubernetes client, botocore underneath)
        "MaxRetryError",
        "ProtocolError",
        "NewConnectionError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        # aiohttp (kubernetes_asyncio, aiobotocore underneath)
        "ClientConnectionError",
        "ClientOSError",
        "ServerDisconnectedError",
        "ServerTimeoutError",
        "ClientPayloadError",
        # botocore / aiobotocore (their timeouts share urllib3's names)
        "EndpointConnectionError",
        "ConnectionClosedError",
        # builtins (asyncio.TimeoutError is TimeoutError), and a failed DNS lookup
        "ConnectionError",
        "TimeoutError",
        "gaierror",
    }
)
"""Exception class names (matched along the MRO) that mean the request got no answer."""


class ApiError(FrozenModel):
    """What a failed API call told us, whichever client raised it."""

    status: int | None = Field(None, description="HTTP status, if a response arrived.")
    code: str | None = Field(
        None, description="AWS `Error.Code`, Kubernetes `reason`, or the transport exception's class name."
    )
    message: str = ""
    retry_after_seconds: float | None = Field(None, ge=0, description="`Retry-After` header, when sent.")


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 and math.isfinite(seconds) else None


def _header(headers: Any, name: str) -> Any:
    if not hasattr(headers, "items"):
        return None
    return next((v for k, v in headers.items() if str(k).lower() == name), None)


def api_error(exc: BaseException) -> ApiError:
    """The facts of a botocore/aiobotocore `ClientError`, a Kubernetes `ApiException` (either client),
    or a transport failure (no status; its class name, or the first transport class it derives from)."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping) and ("Error" in response or "ResponseMetadata" in response):
        error = response.get("Error") or {}
        meta = response.get("ResponseMetadata") or {}
        return ApiError(
            status=meta.get("HTTPStatusCode"),
            code=error.get("Code") or None,
            message=str(error.get("Message") or exc),
            retry_after_seconds=_seconds(_header(meta.get("HTTPHeaders"), "retry-after")),
        )
    status = getattr(exc, "status", None)
    if isinstance(status, int) and not isinstance(status, bool):
        body = getattr(exc, "body", None)
        return ApiError(
            status=status,
            code=str(getattr(exc, "reason", "") or "") or None,
            message=(body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or exc)),
            retry_after_seconds=_seconds(_header(getattr(exc, "headers", None), "retry-after")),
        )
    names = [cls.__name__ for cls in type(exc).__mro__]
    code = next((name for name in names if name in TRANSPORT_ERRORS), names[0])
    return ApiError(code=code, message=str(exc))


def status_of(exc: BaseException) -> int | None:
    """HTTP status of an API exception from any of the clients, else None."""
    return api_error(exc).status


def transient_cause(err: ApiError) -> str | None:
    """Why another try may succeed, or None when it would fail the same way."""
    if err.code in TRANSIENT_CODES:
        return f"transient error {err.code}"
    if err.status in TRANSIENT_STATUSES:
        return f"HTTP {err.status}"
    if err.status is None and (err.code is None or err.code in TRANSPORT_ERRORS):
        return f"no response ({err.code or 'connection failure'})"
    return None


def is_transient(exc: BaseException) -> bool:
    """Timeout, throttling, 5xx or a dropped connection: worth another try."""
    return transient_cause(api_error(exc)) is not None


def backoff_delay(
    retry: int, base_seconds: float, cap_seconds: float, rng: random.Random, retry_after: float | None = None
) -> float:
    """Delay before retry `retry` (1-based): full jitter, uniform in [0, min(cap, base * 2^(retry-1))].

    Full jitter spreads a crowd that failed at once (a throttled API, a reclaimed spot pool) over the
    whole window. A server's `Retry-After` is a floor, itself capped, so one header cannot park a caller.
    """
    if retry < 1:
        raise ValueError(f"retry is 1-based, got {retry}")
    ceiling = min(cap_seconds, math.ldexp(base_seconds, min(retry - 1, 62)))
    return max(rng.uniform(0, ceiling), min(retry_after or 0.0, cap_seconds))


class Backoff(FrozenModel):
    """A retry budget: `max_tries` calls in all, full-jitter delays from `base_seconds` up to `cap_seconds`."""

    max_tries: int = Field(8, ge=1, description="Calls in all, including the first.")
    base_seconds: float = Field(0.5, gt=0)
    cap_seconds: float = Field(15.0, gt=0)

    def delay(self, retry: int, rng: random.Random, retry_after: float | None = None) -> float:
        return backoff_delay(retry, self.base_seconds, self.cap_seconds, rng, retry_after)
