"""Pytest fixtures for the kube API test server, and a migrated Airflow home for ``dag.test()``.

Register repo-wide with ``pytest_plugins = ["tests.kubeapi.fixtures"]`` in ``tests/conftest.py``.

Fixtures:
- ``kube_api``: a started ``KubeApiServer`` per test (fast clock, CRD admission when
  ``SPARK_OPERATOR_CRD`` points at the CRD file).
- ``kube_api_factory``: build servers with other options (``tls=True``, ``token_auth=True`` ...).
- ``kube_conn``: sets ``AIRFLOW_CONN_KUBERNETES_DEFAULT`` to a connection for ``kube_api``.
- ``spark_crd_path``: the pinned CRD path, or a skip with the reason.
- ``airflow_home``: session-wide migrated SQLite Airflow home (see its docstring).

Tests marked ``slow`` are skipped unless selected with ``-m slow`` or ``KUBEAPI_RUN_SLOW=1``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kubeapi.server import KubeApiServer

KubeApiFactory = Callable[..., KubeApiServer]  # the type of the ``kube_api_factory`` fixture
DEFAULT_SPEED = 20.0
_HOME_ENV = "KUBEAPI_AIRFLOW_HOME"  # set it to keep (and reuse) an Airflow home across runs
_CREATED_HOME = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long-running load test; run with -m slow or KUBEAPI_RUN_SLOW=1")
    # Airflow reads AIRFLOW_HOME once, at import; point it at a throw-away home before any test
    # module (or the package under test) imports airflow, so nothing touches ~/airflow.
    if _HOME_ENV not in os.environ:
        home = Path(tempfile.mkdtemp(prefix="airflow-home-"))
        config.stash[_CREATED_HOME] = home
        os.environ[_HOME_ENV] = str(home)
        os.environ["AIRFLOW_HOME"] = str(home)
        os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(home / "dags")
        os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
        os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        os.environ["AIRFLOW__CORE__PARALLELISM"] = "2"
        os.environ["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "False"
        (home / "dags").mkdir(parents=True, exist_ok=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    home = config.stash.get(_CREATED_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    markexpr = config.option.markexpr or ""
    if ("slow" in markexpr and "not slow" not in markexpr) or os.environ.get("KUBEAPI_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow load test: run with -m slow or KUBEAPI_RUN_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("skip"):
            item.add_marker(skip)


def crd_path() -> Path | None:
    """The CRD named by ``SPARK_OPERATOR_CRD``, if that file exists."""
    value = os.environ.get("SPARK_OPERATOR_CRD")
    if value and Path(value).is_file():
        return Path(value)
    return None


@pytest.fixture
def spark_crd_path() -> Path:
    path = crd_path()
    if path is None:
        pytest.skip("SPARK_OPERATOR_CRD is unset or not a file: admission against the pinned CRD is off")
    return path


@pytest.fixture
def kube_api_factory(tmp_path: Path) -> Iterator[KubeApiFactory]:
    """Start servers with custom options; all are stopped after the test."""
    servers: list[KubeApiServer] = []

    def make(**options: Any) -> KubeApiServer:
        options.setdefault("speed", DEFAULT_SPEED)
        options.setdefault("crd_path", crd_path())
        options.setdefault("workdir", tmp_path / f"kubeapi-{len(servers)}")
        server = KubeApiServer(**options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def kube_api(kube_api_factory: KubeApiFactory) -> KubeApiServer:
    """A started API server with the simulated Spark Operator (clock x20, admission if CRD set)."""
    return kube_api_factory()


@pytest.fixture
def kube_conn(kube_api: KubeApiServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``kubernetes_default`` as an env connection to ``kube_api``; returns the conn id."""
    monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", kube_api.airflow_connection_json())
    return "kubernetes_default"


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """A migrated SQLite Airflow home shared by the session; returns its path.

    The environment is set in ``pytest_configure`` (before anything imports airflow, which reads
    it once): ``AIRFLOW_HOME`` = a temp dir, ``AIRFLOW__CORE__DAGS_FOLDER`` = ``<home>/dags``,
    SQLite at ``<home>/airflow.db``, ``LOAD_EXAMPLES=False``, ``PARALLELISM=2``, DAGs unpaused at
    creation. ``unit_test_mode`` is deliberately *not* set: it loads Airflow's own
    ``unit_tests.cfg``, whose dags folder points into Airflow's test tree and which turns examples
    back on. This fixture migrates the DB once (~5 s).

    For ``dag.test()``: write the DAG file into ``airflow_home / "dags"``, then call
    ``airflow.utils.cli.get_bagged_dag(None, dag_id).test()`` (it serializes the DAG first).
    Connections: ``monkeypatch.setenv("AIRFLOW_CONN_<ID>", ...)`` works per test.
    """
    home = Path(os.environ[_HOME_ENV])
    marker = home / ".migrated"
    if not marker.exists():
        from airflow import settings
        from airflow.utils import db

        if str(home) not in str(settings.SQL_ALCHEMY_CONN):
            raise RuntimeError(
                f"airflow was imported before AIRFLOW_HOME was set (DB: {settings.SQL_ALCHEMY_CONN}); "
                "register tests.kubeapi.fixtures before importing airflow"
            )
        db.initdb()
        marker.touch()
    return home
