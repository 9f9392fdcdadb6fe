"""Pytest fixtures for EMR on EKS against moto's server over HTTP.

Import the ones a module needs (`from tests.emr.fixtures import aws_conn, moto_server, virtual_cluster`),
or register the module with `pytest_plugins`. The state of moto's backends is reset for every test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emr.faults import Faults
from tests.emr.moto_emr import EmrMoto, quiet_werkzeug
from tests.emr.moto_serverless import ServerlessMoto

NO_BOTOCORE_RETRIES = {"retries": {"total_max_attempts": 1}}
"""botocore retries throttling and 5xx on its own; tests of our own back-pressure turn that off."""


def boto_client(server: EmrMoto, service: str) -> Any:
    return server.client(service)


def create_virtual_cluster(
    server: EmrMoto, namespace: str = "datalake", scheduler: dict[str, int] | None = None
) -> str:
    """A virtual cluster created through the API, as a platform team would; `scheduler` is its
    `schedulerConfiguration` (`maxConcurrentJobRuns`, `maxInQueueJobRuns`: job queueing)."""
    created = boto_client(server, "emr-containers").create_virtual_cluster(
        name=f"vc-{namespace}",
        containerProvider={"id": "eks-data", "type": "EKS", "info": {"eksInfo": {"namespace": namespace}}},
        **({"schedulerConfiguration": scheduler} if scheduler else {}),
    )
    return str(created["id"])


@pytest.fixture
def moto_server() -> Iterator[EmrMoto]:
    """moto's server on 127.0.0.1 (free port), with a fault layer and call counts, fresh state."""
    from moto.emrcontainers.models import emrcontainers_backends

    emrcontainers_backends.reset()
    yield from _serve(EmrMoto(Faults()))


def _serve(server: EmrMoto) -> Iterator[Any]:
    from moto.s3.models import s3_backends

    quiet_werkzeug()
    s3_backends.reset()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws_conn(moto_server: EmrMoto, monkeypatch: pytest.MonkeyPatch) -> str:
    """`aws_default` as an env connection to `moto_server` (dummy credentials, botocore retries off)."""
    return connect(moto_server, monkeypatch)


def connect(server: EmrMoto, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", server.connection_json(**NO_BOTOCORE_RETRIES))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return "aws_default"


@pytest.fixture
def virtual_cluster(moto_server: EmrMoto) -> str:
    return create_virtual_cluster(moto_server)


@pytest.fixture
def serverless_server() -> Iterator[ServerlessMoto]:
    """`moto_server`, with emr-serverless as the service behaves (`tests/emr/moto_serverless.py`)."""
    from moto.emrserverless.models import emrserverless_backends

    emrserverless_backends.reset()
    yield from _serve(ServerlessMoto(Faults()))


@pytest.fixture
def serverless_conn(serverless_server: ServerlessMoto, monkeypatch: pytest.MonkeyPatch) -> str:
    """`aws_default` as an env connection to `serverless_server` (botocore retries off)."""
    return connect(serverless_server, monkeypatch)


@pytest.fixture
def application(serverless_server: ServerlessMoto) -> str:
    """A STARTED application, created through the API."""
    return serverless_server.create_application()
