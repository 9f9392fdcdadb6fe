"""`hourly_compaction` against the test API server playing the Spark Operator, with a few tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.dagrun import run_dag
from tests.kubeapi.scenarios import SpotInterruption, Succeed
from tests.kubeapi.server import KubeApiServer

TABLES = {"payments": "large", "orders": "medium", "clicks": "small", "sessions": "small"}


def test_hourly_compaction_on_the_spark_operator(
    kube_api: KubeApiServer, kube_conn: str, airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiers = json.loads(
        json.dumps(__import__("yaml").safe_load((EXAMPLES / "config/compaction_tables.yaml").read_text()))
    )
    tables = tmp_path / "tables.yaml"
    tables.write_text(
        json.dumps({"tiers": tiers["tiers"], "tables": [{"name": n, "tier": t} for n, t in TABLES.items()]})
    )
    for name, value in {
        "AIRFLOW__EKS_DATA__PROFILES_DIR": str(EXAMPLES / "profiles"),
        "AIRFLOW_VAR_COMPACTION_BACKEND": "spark_operator",
        "AIRFLOW_VAR_COMPACTION_TABLES_FILE": str(tables),
        "AIRFLOW_VAR_COMPACTION_LAKE": "s3a://example-lake",
    }.items():
        monkeypatch.setenv(name, value)
    kube_api.script("compact-payments-*-1-1", SpotInterruption())  # the large table loses its driver once
    kube_api.script("compact-*", Succeed())
    # Deployed as users do: the DAG file with its config folder beside it.
    shutil.copytree(EXAMPLES / "config", airflow_home / "dags" / "config", dirs_exist_ok=True)
    source = (EXAMPLES / "hourly_compaction.py").read_text()
    result = run_dag(airflow_home, "hourly_compaction", source)
    assert result.state == "success"
    assert {task: state for task, state in result.states.items() if task.startswith("compact_")} == {
        "compact_large": "success",
        "compact_medium": "success",
        "compact_small": "success",
    }
    apps = kube_api.list("SparkApplication", namespace="datalake")
    assert len(apps) == len(TABLES) + 1  # one resubmission after the spot interruption
    summary = result.xcom["summary"]
    assert summary["interruptions"] == 1 and summary["failed_runs"] == 0
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
