"""A test API server shared by one module's tests, for suites that pay for DAG runs once and then check
many things about them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.kubeapi.fixtures import DEFAULT_SPEED, crd_path
from tests.kubeapi.server import KubeApiServer


@contextmanager
def serving(**options: Any) -> Iterator[KubeApiServer]:
    """A started server (clock x20, CRD admission when the CRD is known, `options` as given) with
    `kubernetes_default` pointing at it until the block ends."""
    with (
        KubeApiServer(speed=DEFAULT_SPEED, crd_path=crd_path(), **options) as server,
        pytest.MonkeyPatch.context() as env,
    ):
        env.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", server.airflow_connection_json())
        yield server


@pytest.fixture(scope="module")
def module_kube_api() -> Iterator[KubeApiServer]:
    with serving() as server:
        yield server
