"""Compact one hour partition of one or more tables: many small Parquet files in, a few large ones out.

Runs unchanged with `spark-submit --master local[N]` on a laptop and as the main application of a
SparkJob on EKS (Spark 3.5 and 4.x). Every file-system call goes through Hadoop's `FileSystem` API
via the JVM gateway, so `--lake` may be a local path, `file://`, `s3a://` or `hdfs://` URI.

Lake layout (`<lake>` is `--lake`, `<hour>` is `YYYY-MM-DDTHH`):

    <lake>/raw/<table>/hour=<hour>/part-*.parquet            input, written by ingestion, never modified
    <lake>/compacted/<table>/hour=<hour>/part-*.parquet      the published partition
    <lake>/compacted/<table>/hour=<hour>/_MANIFEST.json      commit marker + manifest, written last
    <lake>/compacted/<table>/_staging/hour=<hour>.<run-id>/  where a run writes before it publishes
    <lake>/compacted/<table>/_trash/hour=<hour>.<run-id>/    the previous version while it is swapped out

Paths starting with `_` are hidden from Spark's and Hive's partition discovery, so readers of
`<lake>/compacted/<table>/` never see staging or trash.

A run, per table:
1. Clean up after a crashed run of the same hour: stale staging is deleted; a version left in
   `_trash` while the partition is missing (a crash inside the swap) is moved back.
2. List the input files; their names, sizes and modification times form the input fingerprint.
   If the published partition's manifest has the same fingerprint and target size, the hour is
   already compacted and the run only reports it (idempotent rerun; `--force` recompacts).
3. Read the input, `repartition(ceil(input bytes / target))`, write Parquet to the staging path.
4. Verify the staged output against the input: same schema, same row count and the same
   order-independent checksum (sum, as decimal(38,0), of `xxhash64` over every column and its null
   flag, computed in Spark). On a mismatch the staging is deleted, the published partition is left as
   it was, and the job exits 3 with the numbers.
5. Publish: move the old partition to `_trash`, rename the staging directory into place, write
   `_MANIFEST.json` (the commit marker), delete the trash.

Atomicity: a crash before step 5 leaves the old partition untouched and visible; the staging it
leaves is invisible and removed by the next run. On local disks and HDFS a directory rename is
atomic, so readers see the old partition or the new one. On S3 (s3a) a rename is a copy per object:
readers that must never see a half-swapped partition trust it only when `_MANIFEST.json` is present
(it is written after the data); a crash inside the swap is repaired by rerunning the hour, because
the raw input is never modified. One run per (table, hour) at a time: Airflow's task identity gives
that.

Manifest (`_MANIFEST.json` in the partition, one line `compaction-manifest: {...}` per table on
stdout, and all tables in the document written to `--manifest`): table, hour, status
(`compacted` | `unchanged` | `no_input` | `verification_failed` | `missing_input`), input and output
files, bytes, rows and checksum, target file size, run id, duration in seconds.

Exit codes: 0 every table compacted or unchanged; 3 a verification failed; 4 an input partition does
not exist; 86 `--fail-before-publish` (tests only: simulates a crash after staging); 1 anything else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

MANIFEST = "_MANIFEST.json"
EXIT_VERIFICATION = 3
EXIT_MISSING_INPUT = 4
EXIT_SIMULATED_CRASH = 86
HOUR_FORMAT = "%Y-%m-%dT%H"
MIB = 1024 * 1024
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class VerificationError(Exception):
    """The staged output does not hold the same rows as the input; nothing was published."""


class MissingInputError(Exception):
    """The raw partition does not exist (a wrong table name or hour, or ingestion has not run)."""


@dataclass(frozen=True)
class FileInfo:
    name: str
    size: int
    modified: int


@dataclass(frozen=True)
class Stats:
    """What both sides of a compaction are compared on."""

    files: int
    bytes: int
    rows: int
    checksum: str


class LakeFs:
    """The few Hadoop `FileSystem` calls the job needs, through the JVM so that s3a works like a local disk."""

    def __init__(self, spark: SparkSession, root: str) -> None:
        self._jvm: Any = spark._jvm
        self._conf: Any = spark.sparkContext._jsc.hadoopConfiguration()
        self._fs: Any = self._path(root).getFileSystem(self._conf)

    def _path(self, uri: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(uri)

    def exists(self, uri: str) -> bool:
        return bool(self._fs.exists(self._path(uri)))

    def files(self, uri: str) -> list[FileInfo]:
        """Visible data files of a directory: the ones Spark would read (no `_` or `.` prefix)."""
        if not self.exists(uri):
            return []
        found = [
            FileInfo(str(status.getPath().getName()), int(status.getLen()), int(status.getModificationTime()))
            for status in self._fs.listStatus(self._path(uri))
            if status.isFile()
        ]
        return sorted((f for f in found if not f.name.startswith(("_", "."))), key=lambda f: f.name)

    def children(self, uri: str, prefix: str) -> list[str]:
        """Full URIs of the entries of a directory whose names start with `prefix`, oldest name first."""
        if not self.exists(uri):
            return []
        names = sorted(str(s.getPath().getName()) for s in self._fs.listStatus(self._path(uri)))
        return [f"{uri}/{name}" for name in names if name.startswith(prefix)]

    def rename(self, source: str, destination: str) -> None:
        """Rename, creating the destination's parent; Hadoop reports failure as `False`, made an error here."""
        target = self._path(destination)
        self._fs.mkdirs(target.getParent())
        if not self._fs.rename(self._path(source), target):
            raise OSError(f"rename {source} -> {destination} failed")

    def delete(self, uri: str) -> None:
        self._fs.delete(self._path(uri), True)

    def read_text(self, uri: str) -> str | None:
        if not self.exists(uri):
            return None
        stream = self._fs.open(self._path(uri))
        try:
            return str(self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
        finally:
            stream.close()

    def write_text(self, uri: str, text: str) -> None:
        """Write a temporary file and rename it, so that a reader never sees half a file on a local disk."""
        temporary = f"{uri}.{uuid.uuid4().hex[:8]}.tmp"
        stream = self._fs.create(self._path(temporary), True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        if self.exists(uri):
            self.delete(uri)
        self.rename(temporary, uri)


@dataclass(frozen=True)
class Layout:
    """Where one table's hour lives in the lake (see the module docstring)."""

    lake: str
    table: str
    hour: str

    @property
    def raw(self) -> str:
        return f"{self.lake}/raw/{self.table}/hour={self.hour}"

    @property
    def table_root(self) -> str:
        return f"{self.lake}/compacted/{self.table}"

    @property
    def published(self) -> str:
        return f"{self.table_root}/hour={self.hour}"

    @property
    def manifest(self) -> str:
        return f"{self.published}/{MANIFEST}"

    @property
    def staging_dir(self) -> str:
        return f"{self.table_root}/_staging"

    @property
    def trash_dir(self) -> str:
        return f"{self.table_root}/_trash"

    def staging(self, run_id: str) -> str:
        return f"{self.staging_dir}/hour={self.hour}.{run_id}"

    def trash(self, run_id: str) -> str:
        return f"{self.trash_dir}/hour={self.hour}.{run_id}"


def lake_uri(value: str) -> str:
    """A URI for Hadoop: local paths become absolute `file://` URIs so that the driver's cwd does not matter."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value):
        return value.rstrip("/")
    return Path(value).resolve().as_uri()


def checksum_columns(df: DataFrame) -> list[Column]:
    """Every column plus its null flag: `xxhash64` skips nulls, so without the flag a value moved to a
    neighbouring null column would hash the same. Maps are hashed as their sorted entries (Spark refuses
    to hash maps, whose entry order is not defined)."""
    columns: list[Column] = []
    for field in df.schema.fields:
        column = F.col(f"`{field.name}`")
        value = F.array_sort(F.map_entries(column)) if isinstance(field.dataType, MapType) else column
        columns += [value, column.isNull()]
    return columns


def content_stats(df: DataFrame, files: Sequence[FileInfo]) -> Stats:
    """Row count and an order-independent checksum in one pass: the sum of row hashes does not depend on
    how rows are spread over files, and summing as decimal(38,0) cannot overflow (ANSI mode would fail)."""
    row_hash = F.xxhash64(*checksum_columns(df)).cast("decimal(38,0)")
    result = df.agg(F.count(F.lit(1)).alias("rows"), F.sum(row_hash).alias("checksum")).first()
    assert result is not None  # a global aggregation always returns one row
    checksum = result["checksum"]
    return Stats(len(files), sum(f.size for f in files), int(result["rows"]), str(checksum or 0))


def output_file_count(input_bytes: int, target_file_mb: float) -> int:
    """As many files as the input fills at the target size; Parquet re-encoding of larger row groups
    usually compresses better, so files come out at or below the target."""
    return max(1, math.ceil(input_bytes / (target_file_mb * MIB)))


def fingerprint(files: Sequence[FileInfo]) -> str:
    """Identifies the input: a rerun over the same files is recognised and not recompacted."""
    text = "\n".join(f"{f.name}\t{f.size}\t{f.modified}" for f in files)
    return hashlib.sha256(text.encode()).hexdigest()


def verify(table: str, hour: str, source: Stats, output: Stats, schemas: tuple[str, str]) -> None:
    """Refuse to publish unless the output holds exactly the input's rows."""
    problems = []
    if schemas[0] != schemas[1]:
        problems.append(f"schema in {schemas[0]} != out {schemas[1]}")
    if source.rows != output.rows:
        problems.append(f"rows in {source.rows} != out {output.rows}")
    if source.checksum != output.checksum:
        problems.append(f"checksum in {source.checksum} != out {output.checksum}")
    if problems:
        raise VerificationError(f"{table} hour={hour}: {'; '.join(problems)}")


def schema_text(df: DataFrame) -> str:
    """Column names and types, without nullability (Spark writes every Parquet column as nullable)."""
    return ", ".join(f"{f.name}:{f.dataType.simpleString()}" for f in df.schema.fields)


def recover(fs: LakeFs, layout: Layout) -> None:
    """Undo what a crashed run of this hour left: a swapped-out version comes back if the partition is
    missing; stale staging and trash are deleted."""
    prefix = f"hour={layout.hour}."
    trashed = fs.children(layout.trash_dir, prefix)
    if trashed and not fs.exists(layout.published):
        fs.rename(trashed[-1], layout.published)
        trashed = trashed[:-1]
    for leftover in [*fs.children(layout.staging_dir, prefix), *trashed]:
        fs.delete(leftover)


def publish(fs: LakeFs, layout: Layout, staging: str, run_id: str, manifest: dict[str, Any]) -> None:
    """Swap the verified staging in, then write the commit marker, then drop the old version."""
    trash = layout.trash(run_id)
    had_old = fs.exists(layout.published)
    if had_old:
        fs.rename(layout.published, trash)
    fs.rename(staging, layout.published)
    fs.write_text(layout.manifest, json.dumps(manifest, indent=2, sort_keys=True))
    if had_old:
        fs.delete(trash)


def committed_manifest(fs: LakeFs, layout: Layout) -> dict[str, Any] | None:
    text = fs.read_text(layout.manifest)
    if text is None:
        return None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def compact(
    spark: SparkSession,
    lake: str,
    table: str,
    hour: str,
    target_file_mb: float,
    *,
    force: bool = False,
    after_staging: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Compact one table's hour and return its manifest; raises `VerificationError` (nothing published)
    or `MissingInputError`. `after_staging(staging_uri)` runs between the staged write and verification,
    for tests that corrupt the staging or simulate a crash there."""
    started = time.monotonic()
    layout = Layout(lake_uri(lake), table, hour)
    fs = LakeFs(spark, layout.lake)
    recover(fs, layout)
    if not fs.exists(layout.raw):
        raise MissingInputError(f"{table} hour={hour}: no input partition at {layout.raw}")
    files = fs.files(layout.raw)
    base: dict[str, Any] = {
        "table": table,
        "hour": hour,
        "input_path": layout.raw,
        "output_path": layout.published,
        "target_file_mb": target_file_mb,
        "input_fingerprint": fingerprint(files),
    }
    previous = committed_manifest(fs, layout)
    if not force and previous and _same_work(previous, base):
        return {**previous, "status": "unchanged", "duration_seconds": _since(started)}
    if not files:
        return {**base, "status": "no_input", "input": asdict(Stats(0, 0, 0, "0")), "duration_seconds": 0.0}
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    staging = layout.staging(run_id)
    source_df = spark.read.parquet(*[f"{layout.raw}/{f.name}" for f in files])
    source = content_stats(source_df, files)
    source_df.repartition(output_file_count(source.bytes, target_file_mb)).write.parquet(staging)
    if after_staging is not None:
        after_staging(staging)
    staged_df = spark.read.parquet(staging)
    output = content_stats(staged_df, fs.files(staging))
    try:
        verify(table, hour, source, output, (schema_text(source_df), schema_text(staged_df)))
    except VerificationError:
        fs.delete(staging)
        raise
    manifest = {
        **base,
        "status": "compacted",
        "run_id": run_id,
        "input": asdict(source),
        "output": asdict(output),
        "output_files": [f.name for f in fs.files(staging)],
        "spark_version": spark.version,
        "committed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    manifest["duration_seconds"] = _since(started)
    publish(fs, layout, staging, run_id, manifest)
    return manifest


def _same_work(previous: dict[str, Any], current: dict[str, Any]) -> bool:
    keys = ("input_fingerprint", "target_file_mb")
    return previous.get("status") == "compacted" and all(previous.get(k) == current[k] for k in keys)


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def parse_hour(value: str) -> str:
    """`2026-11-23T10` (also accepts `2026-11-23T10:00` and normalises it): one partition per hour."""
    for pattern in (HOUR_FORMAT, "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, pattern).strftime(HOUR_FORMAT)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"hour must look like 2026-11-23T10, got {value!r}")


def parse_tables(values: Sequence[str]) -> list[str]:
    """`--table a --table b` and `--tables a,b` both work; order is kept, duplicates dropped."""
    tables: list[str] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if name and name not in tables:
                if not _TABLE_NAME.match(name):
                    raise SystemExit(f"compact_table: invalid table name {name!r}")
                tables.append(name)
    if not tables:
        raise SystemExit("compact_table: give --table NAME or --tables a,b,c")
    return tables


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compact_table", description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--table", action="append", default=[], help="a table to compact (repeatable)")
    parser.add_argument("--tables", action="append", default=[], help="comma-separated tables, one JVM for all")
    parser.add_argument("--hour", required=True, type=parse_hour, help="the hour partition, e.g. 2026-11-23T10")
    parser.add_argument(
        "--lake", default=os.environ.get("LAKE_ROOT"), help="lake root: a path or s3a:// URI (default $LAKE_ROOT)"
    )
    parser.add_argument("--target-file-mb", type=float, default=512.0, help="target output file size in MiB")
    parser.add_argument("--manifest", help="also write every table's manifest to this path or URI")
    parser.add_argument("--force", action="store_true", help="recompact even if the hour is already compacted")
    parser.add_argument("--fail-before-publish", action="store_true", help="tests only: crash after staging")
    return parser


def run(spark: SparkSession, args: argparse.Namespace) -> int:
    """Compact every table, one after another in this JVM; one table's failure does not stop the others."""
    started = time.monotonic()
    crash = _crash if args.fail_before_publish else None
    results: list[dict[str, Any]] = []
    exit_code = 0
    for table in parse_tables([*args.table, *args.tables]):
        try:
            result = compact(
                spark, args.lake, table, args.hour, args.target_file_mb, force=args.force, after_staging=crash
            )
        except VerificationError as error:
            print(f"compact_table: VERIFICATION FAILED, nothing published: {error}", file=sys.stderr, flush=True)
            result, exit_code = (
                {"table": table, "status": "verification_failed", "error": str(error)},
                EXIT_VERIFICATION,
            )
        except MissingInputError as error:
            print(f"compact_table: {error}", file=sys.stderr, flush=True)
            result = {"table": table, "status": "missing_input", "error": str(error)}
            exit_code = exit_code or EXIT_MISSING_INPUT
        results.append(result)
        print(f"compaction-manifest: {json.dumps(result, sort_keys=True)}", flush=True)
    if args.manifest:
        document = {
            "hour": args.hour,
            "lake": lake_uri(args.lake),
            "ok": exit_code == 0,
            "duration_seconds": _since(started),
            "tables": results,
        }
        LakeFs(spark, lake_uri(args.manifest)).write_text(lake_uri(args.manifest), json.dumps(document, indent=2))
    return exit_code


def _crash(staging: str) -> None:
    """Die the way a killed driver does: no cleanup, no Spark shutdown, staging left behind."""
    print(f"compact_table: simulated crash after staging {staging}", file=sys.stderr, flush=True)
    os._exit(EXIT_SIMULATED_CRASH)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.lake:
        raise SystemExit("compact_table: give --lake (a path or s3a:// URI) or set LAKE_ROOT")
    if args.target_file_mb <= 0:
        raise SystemExit("compact_table: --target-file-mb must be positive")
    # A progress bar is noise in a task log; the rest of the configuration comes from spark-submit.
    builder = SparkSession.builder.appName(f"compact-{args.hour}").config("spark.ui.showConsoleProgress", "false")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        return run(spark, args)
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
