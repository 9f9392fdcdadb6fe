"""Submission-time errors: back-pressure retries with bounded back-off, permanent errors give up."""

from __future__ import annotations

import random

import pytest

from airflow_eks_data.outcomes import ApiError, SubmitAction, submission_verdict
from airflow_eks_data.outcomes.submission import SUBMIT_RETRIES

SETTINGS = SUBMIT_RETRIES


def _verdict(err: ApiError, tries: int = 1) -> SubmitAction:
    return submission_verdict(err, tries_so_far=tries, settings=SETTINGS, rng=random.Random(0)).action


@pytest.mark.parametrize(
    "err",
    [
        ApiError(status=429, code="TooManyRequests", message="Too many requests"),
        ApiError(status=500, message="etcdserver: request timed out"),
        ApiError(status=503),
        ApiError(status=408, code="RequestTimeout"),
        ApiError(status=408, code="Timeout", message="request timed out"),
        ApiError(status=400, code="ThrottlingException", message="Rate exceeded"),
        ApiError(
            status=400, code="ValidationException", message="Virtual cluster job queue is full (maxInQueueJobRuns)"
        ),
        ApiError(status=400, code="ValidationException", message="Exceeded the maximum number of queued job runs"),
        ApiError(status=402, code="ServiceQuotaExceededException", message="quota"),
        ApiError(status=403, code="Forbidden", message='pods "x" is forbidden: exceeded quota: team-a'),
        ApiError(code="EndpointConnectionError", message="Could not connect"),
        ApiError(message="connection reset"),
    ],
)
def test_back_pressure_retries(err: ApiError) -> None:
    assert _verdict(err) is SubmitAction.RETRY


@pytest.mark.parametrize(
    "err",
    [
        ApiError(status=400, code="ValidationException", message="entryPoint must match pattern"),
        ApiError(status=403, code="AccessDeniedException", message="not authorized"),
        ApiError(status=404, code="ResourceNotFoundException", message="virtual cluster not found"),
        ApiError(status=422, code="Invalid", message="spec.driver.cores: Invalid value"),
        ApiError(status=401, code="Unauthorized"),
    ],
)
def test_permanent_errors_give_up_as_application_side(err: ApiError) -> None:
    verdict = submission_verdict(err, tries_so_far=1, settings=SETTINGS, rng=random.Random(0))
    assert verdict.action is SubmitAction.GIVE_UP
    assert not verdict.infrastructure


def test_conflict_means_adopt_the_existing_run() -> None:
    assert _verdict(ApiError(status=409, code="AlreadyExists")) is SubmitAction.ADOPT


def test_gives_up_as_infrastructure_after_max_tries() -> None:
    verdict = submission_verdict(
        ApiError(status=429), tries_so_far=SETTINGS.max_tries, settings=SETTINGS, rng=random.Random(0)
    )
    assert verdict.action is SubmitAction.GIVE_UP and verdict.infrastructure


@pytest.mark.parametrize("seed", range(20))
def test_delays_full_jitter_bounded_and_retry_after_honoured(seed: int) -> None:
    rng = random.Random(seed)
    for tries in range(1, SETTINGS.max_tries):
        v = submission_verdict(ApiError(status=503), tries_so_far=tries, settings=SETTINGS, rng=rng)
        ceiling = min(60.0, 2.0 * 2 ** (tries - 1))
        assert 0 <= v.delay_seconds <= ceiling
    v = submission_verdict(ApiError(status=429, retry_after_seconds=45), tries_so_far=1, settings=SETTINGS, rng=rng)
    assert v.delay_seconds == 45
    v = submission_verdict(ApiError(status=429, retry_after_seconds=9999), tries_so_far=1, settings=SETTINGS, rng=rng)
    assert v.delay_seconds == 60
