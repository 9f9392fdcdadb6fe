"""Generate a sample data lake: several tables, each with hundreds of small Parquet files for one hour.

This is what ingestion leaves behind and what `dags_examples/jobs/compact_table.py` compacts:

    <lake>/raw/<table>/hour=<YYYY-MM-DDTHH>/part-*.parquet

It runs one local Spark session (pyarrow is not a dependency of the package, and Spark is needed for
the compaction anyway), so it costs one JVM start-up and warm-up (~15-25 s on a 2-core machine) plus 3-5 s per table of
200 files.
Rerunning it replaces the hour's files, so the next compaction has new input to work on.

    python scripts/generate_lake.py --lake /tmp/lake                  # 4 tables x 200 files, this hour
    python scripts/generate_lake.py --lake /tmp/lake --tables clicks,orders --files 300 --hour 2026-11-23T10
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

HOUR_FORMAT = "%Y-%m-%dT%H"

# Column expressions over `id` (spark.range) and `hour_start` (the hour as a timestamp); a mix of
# types, nulls and a map so that the compaction's checksum covers what real tables hold.
SCHEMAS: dict[str, list[str]] = {
    "clicks": [
        "id AS click_id",
        "id % 9973 AS user_id",
        "concat('https://shop.example.com/p/', cast(id % 5000 AS string)) AS url",
        "CASE WHEN id % 7 = 0 THEN NULL ELSE concat('ref-', cast(id % 13 AS string)) END AS referrer",
        "hour_start + make_interval(0, 0, 0, 0, 0, 0, id % 3600) AS event_time",
    ],
    "orders": [
        "id AS order_id",
        "id % 4999 AS customer_id",
        "cast((id % 100000) / 100.0 AS decimal(12, 2)) AS amount",
        "element_at(array('EUR', 'USD', 'GBP'), cast(id % 3 + 1 AS int)) AS currency",
        "element_at(array('new', 'paid', 'shipped', 'cancelled'), cast(id % 4 + 1 AS int)) AS status",
        "hour_start + make_interval(0, 0, 0, 0, 0, 0, id % 3600) AS created_at",
    ],
    "sessions": [
        "uuid() AS session_id",
        "id % 9973 AS user_id",
        "(id % 1800) * 1.5 AS duration_seconds",
        "CASE WHEN id % 5 = 0 THEN NULL ELSE element_at(array('ios', 'android', 'web'), cast(id % 3 + 1 AS int)) "
        "END AS device",
        "map('campaign', concat('c', cast(id % 11 AS string)), 'ab', cast(id % 2 AS string)) AS attributes",
    ],
    "payments": [
        "id AS payment_id",
        "id % 4999 AS order_id",
        "cast((id % 50000) / 10.0 AS double) AS amount",
        "id % 17 = 0 AS refunded",
        "hour_start + make_interval(0, 0, 0, 0, 0, 0, id % 3600) AS paid_at",
    ],
}


@dataclass(frozen=True)
class Generated:
    table: str
    path: str
    files: int
    rows: int
    bytes: int


def raw_partition(lake: str, table: str, hour: str) -> str:
    return f"{lake.rstrip('/')}/raw/{table}/hour={hour}"


def table_frame(spark: SparkSession, table: str, hour: str, files: int, rows_per_file: int) -> DataFrame:
    """A table's rows in one partition per core: `generate` cuts them into files with `maxRecordsPerFile`,
    because one Spark task per tiny file costs more scheduling than writing (~3x slower here)."""
    start = datetime.strptime(hour, HOUR_FORMAT).strftime("%Y-%m-%d %H:00:00")
    partitions = math.gcd(files, spark.sparkContext.defaultParallelism)
    base = spark.range(0, files * rows_per_file, numPartitions=partitions).selectExpr(
        "id", f"to_timestamp('{start}') AS hour_start"
    )
    return base.selectExpr(*SCHEMAS[table])


def generate(
    spark: SparkSession, lake: str, hour: str, tables: Mapping[str, int], rows_per_file: int
) -> list[Generated]:
    """Write each table's hour (replacing it), `tables` mapping a table name to its number of files."""
    written = []
    for table, files in tables.items():
        path = raw_partition(lake, table, hour)
        frame = table_frame(spark, table, hour, files, rows_per_file)
        frame.write.mode("overwrite").option("maxRecordsPerFile", rows_per_file).parquet(path)
        count, size = _parquet_files(spark, path)
        written.append(Generated(table, path, count, files * rows_per_file, size))
    return written


def _parquet_files(spark: SparkSession, path: str) -> tuple[int, int]:
    """Number and total size of the data files written, through Hadoop so that s3a paths work too."""
    jvm: Any = spark._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    sizes = [int(s.getLen()) for s in fs.listStatus(hadoop_path) if str(s.getPath().getName()).endswith(".parquet")]
    return len(sizes), sum(sizes)


def local_session(app_name: str = "generate-lake", cores: str = "*") -> SparkSession:
    """A quiet local session that stays on loopback."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def lake_uri(value: str) -> str:
    """Local paths become absolute `file://` URIs; URIs (s3a://, file:, hdfs://) are kept."""
    return value.rstrip("/") if "://" in value or value.startswith("file:") else Path(value).resolve().as_uri()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lake", required=True, help="lake root: a path or s3a:// URI")
    parser.add_argument("--hour", default=datetime.now(UTC).strftime(HOUR_FORMAT), help="default: the current hour")
    parser.add_argument("--tables", default=",".join(SCHEMAS), help=f"comma-separated, from {', '.join(SCHEMAS)}")
    parser.add_argument("--files", type=int, default=200, help="files per table")
    parser.add_argument("--rows-per-file", type=int, default=500)
    args = parser.parse_args(argv)
    unknown = [t for t in args.tables.split(",") if t not in SCHEMAS]
    if unknown:
        parser.error(f"unknown tables {unknown}; known: {', '.join(SCHEMAS)}")
    datetime.strptime(args.hour, HOUR_FORMAT)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    spark = local_session()
    try:
        tables = dict.fromkeys(args.tables.split(","), args.files)
        for item in generate(spark, lake_uri(args.lake), args.hour, tables, args.rows_per_file):
            print(json.dumps(asdict(item)), flush=True)
    finally:
        spark.stop()
    print(f"generated {len(tables)} tables in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
