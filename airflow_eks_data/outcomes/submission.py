"""Submission-time API errors: back off and retry inside the attempt, adopt, or give up.

Transient errors (`retrying.transient_cause`) pass, and so does back-pressure that only a submission
meets: a service or namespace quota, a full EMR virtual-cluster queue. Anything else (400, 401, 403,
404, 422, a real ValidationException) will fail again the same way, so retrying only delays the page.
"""

from __future__ import annotations

import random
import re
from enum import Enum

from pydantic import Field

from airflow_eks_data.outcomes.model import FrozenModel, short
from airflow_eks_data.outcomes.retrying import ApiError, Backoff, transient_cause

SUBMIT_RETRIES = Backoff(max_tries=8, base_seconds=2.0, cap_seconds=60.0)
"""StartJobRun's budget: a submission may wait out a minute of back-pressure per try."""
ADOPT_CODES = frozenset({"AlreadyExists"})
QUOTA_CODES = frozenset({"ServiceQuotaExceededException", "LimitExceededException"})
# EMR (July 2026): StartJobRun on a full virtual-cluster queue is a ValidationException whose exact
# message is not yet pinned (reference notes A.10, F.3); match the words, not the sentence.
_QUEUE_FULL = re.compile(r"queue.{0,60}(full|limit|maximum|exceed)|(maximum|max|limit).{0,60}(queued|in.?queue)", re.I)
_K8S_QUOTA = re.compile(r"exceeded quota", re.I)


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


def back_pressure(err: ApiError) -> str | None:
    """Why a submission may succeed later (transient, quota, full queue), or None."""
    if err.code == "ValidationException":
        return "EMR virtual-cluster queue full" if _QUEUE_FULL.search(err.message) else None
    if err.code in QUOTA_CODES:
        return f"quota {err.code}"
    if err.status == 403 and _K8S_QUOTA.search(err.message):
        return "namespace ResourceQuota exceeded"
    return transient_cause(err)


def submission_verdict(
    err: ApiError,
    *,
    tries_so_far: int,
    settings: Backoff = SUBMIT_RETRIES,
    rng: random.Random,
) -> SubmissionVerdict:
    """Decide after a failed submission call; `tries_so_far` counts calls made, including this one."""
    if err.status == 409 or err.code in ADOPT_CODES:
        return SubmissionVerdict(action=SubmitAction.ADOPT, reason="already submitted (409 AlreadyExists)")
    detail = short(err.message, 160)
    cause = back_pressure(err)
    if cause is None:
        label = err.code or (f"HTTP {err.status}" if err.status is not None else "error")
        return SubmissionVerdict(action=SubmitAction.GIVE_UP, reason=f"{label}: {detail}".rstrip(": "))
    if tries_so_far >= settings.max_tries:
        return SubmissionVerdict(
            action=SubmitAction.GIVE_UP,
            reason=f"{cause} persisted over {tries_so_far} tries",
            infrastructure=True,
        )
    delay = settings.delay(tries_so_far, rng, err.retry_after_seconds)
    return SubmissionVerdict(action=SubmitAction.RETRY, delay_seconds=round(delay, 3), reason=cause)
