"""The one transient-error rule and the one backoff, on the exceptions the real clients raise."""

from __future__ import annotations

import ast
import random
from pathlib import Path
from typing import Any

import aiohttp
import botocore.exceptions
import kubernetes_asyncio.client.exceptions
import pytest
import urllib3.exceptions
from kubernetes.client.rest import ApiException  # type: ignore[import-untyped]

from airflow_eks_data.outcomes import EMR_JOB_RUN, SPARK_APPLICATION, Backoff, api_error, backoff_delay, is_transient

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_eks_data"


def client_error(status: int, code: str, headers: dict[str, str] | None = None) -> Any:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
    }
    return botocore.exceptions.ClientError(response, "ListJobRuns")


def kube_sync(status: int) -> Any:
    return ApiException(status=status, reason="r")


def kube_async(status: int) -> Any:
    return kubernetes_asyncio.client.exceptions.ApiException(status=status, reason="r")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@pytest.mark.parametrize("make", [kube_sync, kube_async, lambda s: client_error(s, "SomethingElse")])
def test_transient_statuses_in_every_client(make: object, status: int) -> None:
    assert is_transient(make(status))  # type: ignore[operator]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
@pytest.mark.parametrize("make", [kube_sync, kube_async, lambda s: client_error(s, "SomethingElse")])
def test_refusals_are_not_transient(make: object, status: int) -> None:
    assert not is_transient(make(status))  # type: ignore[operator]


@pytest.mark.parametrize(
    "exc",
    [
        client_error(400, "ThrottlingException"),
        client_error(400, "RequestTimeoutException"),
        botocore.exceptions.EndpointConnectionError(endpoint_url="https://emr-containers"),
        botocore.exceptions.ReadTimeoutError(endpoint_url="https://emr-containers"),
        botocore.exceptions.ConnectionClosedError(endpoint_url="https://emr-containers"),
        urllib3.exceptions.ProtocolError("Connection aborted."),
        urllib3.exceptions.MaxRetryError(None, "/apis", "too many 503 error responses"),  # type: ignore[arg-type]
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("Response payload is not completed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_throttling_codes_and_dropped_connections_are_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc", [client_error(400, "ValidationException"), ValueError("bad"), KeyError("x")], ids=lambda e: type(e).__name__
)
def test_other_errors_are_not(exc: Exception) -> None:
    assert not is_transient(exc)


def test_retry_after_is_read_from_both_apis() -> None:
    assert api_error(client_error(429, "ThrottlingException", {"retry-after": "7"})).retry_after_seconds == 7
    exc = kube_sync(429)
    exc.headers = {"Retry-After": "3"}
    assert api_error(exc).retry_after_seconds == 3
    exc.headers = {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}  # a date: ignored, not a crash
    assert api_error(exc).retry_after_seconds is None


@pytest.mark.parametrize("seed", range(30))
def test_full_jitter_bounds(seed: int) -> None:
    rng = random.Random(seed)
    for retry in range(1, 12):
        assert 0 <= backoff_delay(retry, 0.5, 15.0, rng) <= min(15.0, 0.5 * 2 ** (retry - 1))


def test_full_jitter_uses_the_whole_window() -> None:
    delays = [backoff_delay(3, 1.0, 60.0, random.Random(seed)) for seed in range(200)]
    assert min(delays) < 0.4 and max(delays) > 3.6  # [0, 4]: no guaranteed half


def test_retry_after_is_a_floor_capped_by_the_cap() -> None:
    backoff = Backoff(max_tries=3, base_seconds=0.5, cap_seconds=10.0)
    rng = random.Random(0)
    assert all(backoff.delay(1, rng, retry_after=4.0) >= 4.0 for _ in range(50))
    assert backoff.delay(1, rng, retry_after=3600.0) == 10.0
    with pytest.raises(ValueError):
        backoff.delay(0, rng)


def test_state_tables() -> None:
    for table in (SPARK_APPLICATION, EMR_JOB_RUN):
        assert not table.active & table.terminal and table.succeeded <= table.finished
    assert "UNKNOWN" in SPARK_APPLICATION.active and "CANCEL_PENDING" in EMR_JOB_RUN.active


def test_states_are_defined_in_one_module() -> None:
    """No other module spells a set of run states: they import the tables of `outcomes/states.py`."""
    names = {"COMPLETED", "FAILED", "CANCELLED", "RUNNING", "PENDING", "CANCEL_PENDING", "SUBMITTED"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "states.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Set | ast.Tuple | ast.List):
                strings = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                if len(strings & names) >= 2:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []
