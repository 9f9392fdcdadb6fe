"""`hourly_compaction`, the example DAG file unchanged, on EMR Serverless against moto's server.

Only configuration differs from the Spark Operator run (`test_hourly_compaction.py`): the Variable
`compaction_backend` is `emr_serverless`, and the profile of the same name (in a profiles folder of the
test's own) is the example's with `backend: emr_serverless` and the `datalake` tenant's application
being one created in moto, STOPPED, as an idle application is after auto-stop.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, PROFILE_PATH
from tests.dagrun import run_dag
from tests.dags_examples.test_hourly_compaction import TABLES
from tests.emr.moto_serverless import ServerlessMoto


@pytest.fixture
def finishing(serverless_server: ServerlessMoto) -> Iterator[None]:
    """EMR Serverless, scripted: each job run goes RUNNING, then SUCCESS, as soon as it appears.

    The DAG keeps the operator's default 30 s poll interval; a run that has ended by the first sweep
    (which the wait makes at once) is detected without waiting out an interval."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for run in serverless_server.job_runs():
                if run.state == "SUBMITTED":
                    serverless_server.set_state(run.id, "RUNNING")
                elif run.state == "RUNNING":
                    serverless_server.set_state(run.id, "SUCCESS")
            stop.wait(0.01)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


def test_hourly_compaction_on_emr_serverless(
    serverless_server: ServerlessMoto,
    serverless_conn: str,
    finishing: None,
    airflow_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    application = serverless_server.create_application("STOPPED")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile["backend"] = "emr_serverless"
    profile["tenants"]["datalake"]["emr_serverless"]["application_id"] = application
    (profiles / "compaction.yaml").write_text(yaml.safe_dump(profile))
    tiers = yaml.safe_load((EXAMPLES / "config/compaction_tables.yaml").read_text())["tiers"]
    tables = tmp_path / "tables.yaml"
    tables.write_text(json.dumps({"tiers": tiers, "tables": [{"name": n, "tier": t} for n, t in TABLES.items()]}))
    for name, value in {
        "AIRFLOW__EKS_DATA__PROFILES_DIR": str(profiles),
        "AIRFLOW_VAR_COMPACTION_BACKEND": "emr_serverless",
        "AIRFLOW_VAR_COMPACTION_TABLES_FILE": str(tables),
        "AIRFLOW_VAR_COMPACTION_LAKE": "s3a://example-lake",
    }.items():
        monkeypatch.setenv(name, value)
    # Deployed as users do: the DAG file, unchanged, with its config folder beside it.
    shutil.copytree(EXAMPLES / "config", airflow_home / "dags" / "config", dirs_exist_ok=True)
    source = (EXAMPLES / "hourly_compaction.py").read_text()
    result = run_dag(airflow_home, "hourly_compaction", source)
    assert result.state == "success", result.states
    assert {task: state for task, state in result.states.items() if task.startswith("compact_")} == {
        "compact_large": "success",
        "compact_medium": "success",
        "compact_small": "success",
    }
    # Every table's job run started once, on the tenant's application, which the first submission started.
    runs = serverless_server.job_runs(application)
    assert len(runs) == len(TABLES)
    assert sorted(str(run.name).split("-")[1] for run in runs) == sorted(TABLES)
    assert {run.state for run in runs} == {"SUCCESS"}
    assert sorted((run.tags or {})["airflow-eks-data/attempt"] for run in runs) == ["1"] * len(TABLES)
    assert len({(run.tags or {})["airflow-eks-data/task-key"] for run in runs}) == len(TABLES)
    assert serverless_server.faults.calls["StartJobRun"] == len(TABLES)
    assert serverless_server.faults.calls["StartApplication"] == 1
    assert serverless_server.serverless.applications[application].state == "STARTED"
    # What each run's request carried: the cost labels as tags, the example's disks and logs.
    for run in runs:
        assert {"team": "data-platform", "cost-center": "cc-42"}.items() <= (run.tags or {}).items()
        assert (run.tags or {})["airflow-eks-data/tenant"] == "datalake"
    summary = result.xcom["summary"]
    assert summary["failed_runs"] == 0 and summary["interruptions"] == 0
    # Every table's hour is an event of the table's Asset, through the DAG's alias.
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.execute(
            select(AssetModel.uri, AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_dag_id == "hourly_compaction", AssetEvent.source_run_id == result.run_id)
        ).all()
    assert sorted(uri for uri, _ in events) == sorted(f"s3://example-lake/compacted/{t}" for t in TABLES)
    assert all(extra["partition"].startswith("hour=") and extra["outcome"] == "succeeded" for _, extra in events)
