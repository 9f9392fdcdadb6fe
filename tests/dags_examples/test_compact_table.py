"""The compaction job on generated data: once through the real spark-submit command line the package
renders for the `local` backend, the rest in one shared in-process SparkSession (each JVM costs ~15 s)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pyspark = pytest.importorskip("pyspark")

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql.types import MapType  # noqa: E402

from airflow_eks_data.hooks.local_spark import LocalSparkHook  # noqa: E402
from airflow_eks_data.pipeline import prepare  # noqa: E402
from airflow_eks_data.render.spark_submit import SparkSubmit  # noqa: E402
from dags_examples.jobs import compact_table as job  # noqa: E402
from scripts.generate_lake import generate, local_session  # noqa: E402
from tests.conftest import EXAMPLES, PROFILE_PATH  # noqa: E402

pytestmark = pytest.mark.spark

HOUR = "2026-11-23T10"
JOB_FILE = EXAMPLES / "jobs" / "compact_table.py"
TABLES = {"clicks": 40, "sessions": 30, "orders": 20, "payments": 20}
ROWS_PER_FILE = 100


class SimulatedCrash(Exception):
    pass


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = local_session("tests", cores="2")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def lake(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    generate(spark, root.as_uri(), HOUR, TABLES, ROWS_PER_FILE)
    return root


def raw(spark: SparkSession, lake: Path, table: str) -> DataFrame:
    return spark.read.parquet(str(lake / "raw" / table / f"hour={HOUR}"))


def published(lake: Path, table: str) -> Path:
    return lake / "compacted" / table / f"hour={HOUR}"


def data_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("*.parquet"))


def same_rows(left: DataFrame, right: DataFrame) -> bool:
    """Independent of the job's checksum: multiset equality of the rows (maps as JSON: Spark cannot compare maps)."""
    left, right = comparable(left), comparable(right)
    return left.exceptAll(right).isEmpty() and right.exceptAll(left).isEmpty()


def comparable(df: DataFrame) -> DataFrame:
    maps = [f.name for f in df.schema.fields if isinstance(f.dataType, MapType)]
    return df.withColumns({name: F.to_json(F.col(name)) for name in maps})


def test_spark_submit_compacts_several_tables_and_verifies_them(
    spark: SparkSession, lake: Path, tmp_path: Path
) -> None:
    manifest_path = tmp_path / "manifest.json"
    arguments = ["--tables", "clicks,sessions", "--hour", HOUR, "--lake", str(lake), "--target-file-mb", "0.25"]
    spec: dict[str, Any] = {
        "name": "compact-table",
        "tenant": "datalake",
        "main_application_file": str(JOB_FILE),
        "arguments": [*arguments, "--manifest", str(manifest_path)],
        "labels": {"team": "data-platform", "cost-center": "cc-42"},
    }
    document = prepare(spec, PROFILE_PATH, target="local").document
    lines: list[str] = []
    code = LocalSparkHook().run(SparkSubmit(argv=document["argv"], env=document["env"]), lines.append)
    assert code == 0, "\n".join(lines[-30:])
    assert sum(line.startswith("compaction-manifest: ") for line in lines) == 2

    manifest = json.loads(manifest_path.read_text())
    assert manifest["ok"] is True
    assert manifest["hour"] == HOUR
    for entry in manifest["tables"]:
        table = entry["table"]
        assert entry["status"] == "compacted"
        assert entry["input"]["files"] == TABLES[table]
        assert entry["input"]["rows"] == entry["output"]["rows"] == TABLES[table] * ROWS_PER_FILE
        assert entry["input"]["checksum"] == entry["output"]["checksum"]
        assert 1 <= entry["output"]["files"] < entry["input"]["files"]
        assert entry["output"]["bytes"] > 0 and entry["duration_seconds"] > 0
        out = published(lake, table)
        assert data_files(out) == entry["output_files"]
        assert json.loads((out / job.MANIFEST).read_text())["run_id"] == entry["run_id"]
        assert same_rows(raw(spark, lake, table), spark.read.parquet(str(out)))
    assert not list((lake / "compacted" / "clicks" / "_staging").glob("*"))


def test_rerun_of_the_same_hour_is_idempotent(spark: SparkSession, lake: Path) -> None:
    first = job.compact(spark, str(lake), "payments", HOUR, 0.1)
    files = data_files(published(lake, "payments"))
    assert first["status"] == "compacted"
    assert first["output"]["files"] < first["input"]["files"]

    again = job.compact(spark, str(lake), "payments", HOUR, 0.1)
    assert again["status"] == "unchanged"
    assert again["run_id"] == first["run_id"]
    assert data_files(published(lake, "payments")) == files

    forced = job.compact(spark, str(lake), "payments", HOUR, 0.1, force=True)
    assert forced["status"] == "compacted" and forced["run_id"] != first["run_id"]
    assert (forced["output"]["rows"], forced["output"]["checksum"]) == (
        first["output"]["rows"],
        first["output"]["checksum"],
    )
    assert same_rows(raw(spark, lake, "payments"), spark.read.parquet(str(published(lake, "payments"))))


def test_a_crash_between_staging_and_publish_leaves_the_old_partition(spark: SparkSession, lake: Path) -> None:
    old = job.compact(spark, str(lake), "orders", HOUR, 0.1)
    old_files = data_files(published(lake, "orders"))
    generate(spark, lake.as_uri(), HOUR, {"orders": 30}, ROWS_PER_FILE)  # ingestion rewrote the hour

    def crash(staging: str) -> None:
        raise SimulatedCrash(staging)

    with pytest.raises(SimulatedCrash):
        job.compact(spark, str(lake), "orders", HOUR, 0.1, after_staging=crash)
    assert data_files(published(lake, "orders")) == old_files
    assert json.loads((published(lake, "orders") / job.MANIFEST).read_text())["run_id"] == old["run_id"]
    assert list((lake / "compacted" / "orders" / "_staging").iterdir())  # left behind, but hidden:
    assert spark.read.parquet(str(lake / "compacted" / "orders")).count() == old["output"]["rows"]

    new = job.compact(spark, str(lake), "orders", HOUR, 0.1)
    assert new["status"] == "compacted"
    assert new["output"]["rows"] == 30 * ROWS_PER_FILE
    assert not list((lake / "compacted" / "orders" / "_staging").iterdir())
    assert not list((lake / "compacted" / "orders" / "_trash").iterdir())


def test_verification_failure_publishes_nothing(spark: SparkSession, lake: Path, tmp_path: Path) -> None:
    generate(spark, lake.as_uri(), HOUR, {"orders": 20}, ROWS_PER_FILE)
    before = data_files(published(lake, "orders"))

    def lose_a_file(staging: str) -> None:
        victim = sorted(Path(staging.removeprefix("file://")).glob("*.parquet"))[0]
        os.remove(victim)

    with pytest.raises(job.VerificationError, match="rows in 2000 != out"):
        job.compact(spark, str(lake), "orders", HOUR, 0.01, after_staging=lose_a_file)
    assert data_files(published(lake, "orders")) == before
    assert not list((lake / "compacted" / "orders" / "_staging").iterdir())


def test_checksum_sees_values_moved_between_columns(spark: SparkSession) -> None:
    one = spark.createDataFrame([(None, "x")], "a string, b string")
    other = spark.createDataFrame([("x", None)], "a string, b string")
    assert job.content_stats(one, []).checksum != job.content_stats(other, []).checksum


def test_cli_rejects_a_bad_hour() -> None:
    with pytest.raises(SystemExit):
        job.build_parser().parse_args(["--table", "t", "--hour", "yesterday", "--lake", "/tmp"])
    assert job.parse_hour("2026-11-23T10:00") == HOUR
