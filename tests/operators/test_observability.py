"""What the platform sees of a run, end to end: OpenLineage events (real client, file transport) whose
parent ids match the Spark conf that reached the cluster, Asset events with the hour partition and the
manifest figures, StatsD metrics over UDP, cost in XCom, and the task's labels on the application.

The run happens in a fresh interpreter: Airflow reads plugins (the OpenLineage listener), OpenLineage's
config and the metrics backend once per process."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROFILE_PATH
from tests.dagrun import run_dag_in_subprocess
from tests.kubeapi.scenarios import SpotInterruption, Succeed
from tests.kubeapi.server import KubeApiServer

DAG_ID = "observed"
OUTPUT = "s3://example-lake/compacted/events/hour=2026-11-23T10"


class StatsdCollector:
    """A StatsD server: every datagram received on 127.0.0.1."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            self.lines += data.decode().splitlines()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def metrics(self, name: str) -> list[tuple[dict[str, str], str]]:
        """(tags, `value|type`) of every line of metric `airflow.<name>` (InfluxDB-style tags)."""
        found = []
        for line in self.lines:
            head, _, value = line.partition(":")
            metric, *tags = head.split(",")
            if metric == f"airflow.{name}":
                found.append((dict(tag.split("=", 1) for tag in tags), value))
        return found


@pytest.fixture
def statsd() -> Iterator[StatsdCollector]:
    collector = StatsdCollector()
    yield collector
    collector.close()


def priced_profile(directory: Path) -> Path:
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile["cost"] = {
        "currency": "USD",
        "rates": [
            {"capacity": "on-demand", "vcpu_hour": 0.04, "gb_hour": 0.005},
            {"capacity": "spot", "vcpu_hour": 0.015, "gb_hour": 0.002},
        ],
    }
    path = directory / "priced.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


def dag_source(profile: Path) -> str:
    job = {
        "name": "compact-events",
        "tenant": "datalake",
        "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
        "labels": {"team": "data-platform", "cost-center": "cc-42"},
        "inputs": ["s3a://example-lake/raw/events/hour=2026-11-23T10"],
        "outputs": [OUTPUT],
    }
    return f"""
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        with DAG({DAG_ID!r}, schedule=None, catchup=False):
            SparkOnEksOperator(task_id="spark", job={job!r}, profile={str(profile)!r},
                               interruption_backoff=0.05, poll_interval=0.5)
        """


def ol_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_lineage_assets_metrics_cost_and_labels(
    kube_api: KubeApiServer, kube_conn: str, airflow_home: Path, statsd: StatsdCollector, tmp_path: Path
) -> None:
    kube_api.script("compact-events-*-1-1", SpotInterruption())
    # Object timestamps are real seconds (see SimClock.wall): 30 simulated seconds at the default speed
    # last 1.5 s, so the run's start and end fall in different seconds and its cost is not zero.
    kube_api.script("compact-events-*-1-2", Succeed(run_for=30))
    lineage_file = tmp_path / "openlineage.jsonl"
    env = {
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(lineage_file), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "eks-data-test",
        "AIRFLOW__OPENLINEAGE__SPARK_INJECT_PARENT_JOB_INFO": "True",
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(statsd.port),
        "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True",
    }
    result = run_dag_in_subprocess(airflow_home, DAG_ID, dag_source(priced_profile(tmp_path)), env)
    assert result.state == "success"
    out = result.xcom["spark"]
    assert out["interruptions"] == 1 and len(out["attempts"]) == 2

    # Each attempt carried the task's OpenLineage parent ids and its labels.
    apps = sorted(kube_api.list("SparkApplication", namespace="datalake"), key=lambda a: a["metadata"]["name"])
    assert len(apps) == 2
    confs = [app["spec"]["sparkConf"] for app in apps]
    for conf, app in zip(confs, apps, strict=True):
        assert conf["spark.openlineage.parentJobNamespace"] == "eks-data-test"
        assert conf["spark.openlineage.parentJobName"] == f"{DAG_ID}.spark"
        labels = app["metadata"]["labels"]
        assert labels["airflow-eks-data/dag"] == DAG_ID and labels["airflow-eks-data/task"] == "spark"
        assert labels["airflow-eks-data/run"].startswith("manual__") and ":" not in labels["airflow-eks-data/run"]
        assert labels["cost-center"] == "cc-42"

    # The task's OpenLineage run is the Spark runs' parent; datasets named as the Spark integration does.
    events = [e for e in ol_events(lineage_file) if e["job"]["name"] == f"{DAG_ID}.spark"]
    complete = next(e for e in events if e["eventType"] == "COMPLETE")
    assert {e["run"]["runId"] for e in events} == {confs[0]["spark.openlineage.parentRunId"]}
    assert complete["inputs"][0]["namespace"] == "s3://example-lake"
    assert complete["inputs"][0]["name"] == "raw/events"
    assert complete["outputs"][0]["name"] == "compacted/events"
    facet = complete["run"]["facets"]["airflowEksData"]
    assert facet["backend"] == "spark_operator" and facet["tenant"] == "datalake"
    assert (facet["attempts"], facet["interruptions"], facet["outcome"]) == (2, 1, "succeeded")
    assert facet["application"] == out["name"]
    assert complete["job"]["facets"]["airflowEksData"]["profile"] == "compaction"

    # The output's table got an Asset event for this hour.
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent.partition_key, AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == "s3://example-lake/compacted/events", AssetEvent.source_dag_id == DAG_ID)
        ).all()
    assert len(rows) == 1
    partition, extra = rows[0]
    assert partition == "hour=2026-11-23T10"
    assert extra["interruptions"] == 1 and extra["location"] == OUTPUT

    # Metrics, tagged for per-tenant and per-job dashboards.
    tags = {"tenant": "datalake", "job": "compact-events", "backend": "spark_operator"}
    assert [v for t, v in statsd.metrics("airflow_eks_data.run.succeeded") if t == tags] == ["1|c"]
    assert [v for t, v in statsd.metrics("airflow_eks_data.attempt.interrupted") if t == tags] == ["1|c"]
    assert [v for t, v in statsd.metrics("airflow_eks_data.interruptions") if t == tags] == ["1|c"]
    assert len(statsd.metrics("airflow_eks_data.submission_latency")) == 2
    assert all(v.endswith("|ms") for _, v in statsd.metrics("airflow_eks_data.run_time"))
    assert len(statsd.metrics("airflow_eks_data.run_time")) == 2
    [(_, cost_line)] = statsd.metrics("airflow_eks_data.cost")
    assert out["cost"]["currency"] == "USD" and out["cost"]["amount"] > 0, out["cost"]
    assert float(cost_line.split("|")[0]) == pytest.approx(out["cost"]["amount"], rel=1e-3)
