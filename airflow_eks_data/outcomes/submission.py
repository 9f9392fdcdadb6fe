"""Submission-time API errors: back off and retry inside the attempt, adopt, or give up.

Throttling (429, AWS Throttling*), server errors (5xx), dropped connections, quota pressure and a
full EMR virtual-cluster queue are back-pressure: they pass. Anything else (400, 401, 403, 404, 422,
a real ValidationException) will fail again the same way, so retrying only delays the page.
"""

from __future__ import annotations

import random
import re
from enum import Enum

from pydantic import Field

from airflow_eks_data.outcomes.backoff import backoff_delay
from airflow_eks_data.outcomes.model import FrozenModel, short

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset(
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
        "ServiceQuotaExceededException",
        "LimitExceededException",
        # transport-level failures, as botocore / urllib3 / aiohttp name them
        "EndpointConnectionError",
        "ConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ServerDisconnectedError",
        "TimeoutError",
    }
)
ADOPT_CODES = frozenset({"AlreadyExists"})
# EMR (July 2026): StartJobRun on a full virtual-cluster queue is a ValidationException whose exact
# message is not yet pinned (reference notes A.10, F.3); match the words, not the sentence.
_QUEUE_FULL = re.compile(r"queue.{0,60}(full|limit|maximum|exceed)|(maximum|max|limit).{0,60}(queued|in.?queue)", re.I)
_K8S_QUOTA = re.compile(r"exceeded quota", re.I)


class SubmissionError(FrozenModel):
    """What the backend extracted from the exception: HTTP status, API error code, message."""

    status: int | None = Field(None, description="HTTP status, if a response arrived.")
    code: str | None = Field(
        None, description="AWS `Error.Code`, Kubernetes Status `reason`, or the transport exception name."
    )
    message: str = ""
    retry_after_seconds: float | None = Field(None, ge=0, description="`Retry-After` header, when sent.")


class SubmissionRetrySettings(FrozenModel):
    max_tries: int = Field(8, ge=1, description="Submission calls per attempt, including the first.")
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_cap_seconds: float = Field(60.0, gt=0)


class SubmitAction(str, Enum):
    RETRY = "retry"
    ADOPT = "adopt"
    """Our deterministic name already exists: the earlier call went through; wait on that run."""
    GIVE_UP = "give_up"


class SubmissionVerdict(FrozenModel):
    action: SubmitAction
    delay_seconds: float = 0.0
    reason: str
    infrastructure: bool = Field(
        False, description="When giving up: True if the cause was back-pressure (Airflow retries apply)."
    )


def _transient(err: SubmissionError) -> str | None:
    if err.code == "ValidationException":
        return "EMR virtual-cluster queue full" if _QUEUE_FULL.search(err.message) else None
    if err.code in RETRYABLE_CODES:
        return f"transient error {err.code}"
    if err.status in RETRYABLE_STATUS:
        return f"HTTP {err.status}"
    if err.status == 403 and _K8S_QUOTA.search(err.message):
        return "namespace ResourceQuota exceeded"
    if err.status is None and err.code is None:
        return "no response (connection failure)"
    return None


def submission_verdict(
    err: SubmissionError,
    *,
    tries_so_far: int,
    settings: SubmissionRetrySettings,
    rng: random.Random,
) -> SubmissionVerdict:
    """Decide after a failed submission call; `tries_so_far` counts calls made, including this one."""
    if err.status == 409 or err.code in ADOPT_CODES:
        return SubmissionVerdict(action=SubmitAction.ADOPT, reason="already submitted (409 AlreadyExists)")
    detail = short(err.message, 160)
    cause = _transient(err)
    if cause is None:
        label = err.code or (f"HTTP {err.status}" if err.status is not None else "error")
        return SubmissionVerdict(action=SubmitAction.GIVE_UP, reason=f"{label}: {detail}".rstrip(": "))
    if tries_so_far >= settings.max_tries:
        return SubmissionVerdict(
            action=SubmitAction.GIVE_UP,
            reason=f"{cause} persisted over {tries_so_far} tries",
            infrastructure=True,
        )
    delay = backoff_delay(tries_so_far, settings.backoff_base_seconds, settings.backoff_cap_seconds, rng)
    if err.retry_after_seconds is not None:
        delay = max(delay, min(err.retry_after_seconds, settings.backoff_cap_seconds))
    return SubmissionVerdict(action=SubmitAction.RETRY, delay_seconds=round(delay, 3), reason=cause)
