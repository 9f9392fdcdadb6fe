"""`make demo`: the hourly compaction pipeline end to end on a laptop, with real Spark and real data.

1. checks Java 17 (the only system requirement);
2. generates a small data lake: four tables, hundreds of small Parquet files each, for one hour;
3. runs the `hourly_compaction` DAG with `airflow dags test` on the `local` backend (SQLite in a
   throw-away AIRFLOW_HOME), over a four-table list in the DAG's three tiers;
4. prints, per table, files and bytes before and after, rows verified and duration, from the
   manifests the compaction job committed; exits non-zero if any table failed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
TABLES = {"payments": "large", "orders": "medium", "clicks": "small", "sessions": "small"}
BIN = Path(sys.executable).parent


def check_java() -> None:
    try:
        banner = subprocess.run(["java", "-version"], capture_output=True, text=True, check=True).stderr
    except (OSError, subprocess.CalledProcessError):
        sys.exit("make demo needs Java 17 or newer (Spark runs on it): install e.g. openjdk-17-jre-headless")
    match = re.search(r'version "(\d+)', banner)
    if not match or int(match.group(1)) < 17:
        sys.exit(f"make demo needs Java 17 or newer; found: {banner.splitlines()[0] if banner else 'unknown'}")


def tables_file(path: Path) -> None:
    """The DAG's tier settings, scaled down: a 1 MiB target file instead of 512 MiB, one local core."""
    executor = {"cores": 1, "memory": "1g", "instances": 1}
    tiers = {
        tier: {
            "pool": f"compaction_{tier}",
            "pool_slots": 1,
            "priority_weight": weight,
            "target_file_mb": 1,
            "executor": executor,
        }
        for tier, weight in (("large", 100), ("medium", 10), ("small", 1))
    }
    tables = [{"name": name, "tier": tier} for name, tier in TABLES.items()]
    path.write_text(json.dumps({"tiers": tiers, "tables": tables}, indent=2))  # JSON is YAML


def run(argv: list[str], env: dict[str, str], label: str) -> None:
    print(f"\n=== {label} ===", flush=True)
    started = time.monotonic()
    result = subprocess.run(argv, env=env, cwd=ROOT, check=False)
    print(f"=== {label}: exit {result.returncode} in {time.monotonic() - started:.0f}s ===", flush=True)
    if result.returncode != 0:
        sys.exit(f"demo: {label} failed")


def report(lake: Path, hour: str) -> int:
    print(f"\nCompaction of hour {hour}:\n")
    header = (
        f"{'table':<10} {'tier':<7} {'files in':>9} {'files out':>9} {'MiB in':>8} {'MiB out':>8} "
        f"{'rows verified':>14} {'seconds':>8}  status"
    )
    print(header)
    print("-" * len(header))
    failures = 0
    for table, tier in TABLES.items():
        path = lake / "compacted" / table / f"hour={hour}" / "_MANIFEST.json"
        if not path.is_file():
            print(f"{table:<10} {tier:<7} {'-':>9} {'-':>9} {'-':>8} {'-':>8} {'-':>14} {'-':>8}  NOT PUBLISHED")
            failures += 1
            continue
        m = json.loads(path.read_text())
        same = m["output"]["rows"] == m["input"]["rows"] and m["output"]["checksum"] == m["input"]["checksum"]
        verified = m["output"]["rows"] if same else "MISMATCH"
        failures += m["status"] not in ("compacted", "unchanged") or verified == "MISMATCH"
        print(
            f"{table:<10} {tier:<7} {m['input']['files']:>9} {m['output']['files']:>9} "
            f"{m['input']['bytes'] / 2**20:>8.1f} {m['output']['bytes'] / 2**20:>8.1f} {verified!s:>14} "
            f"{m['duration_seconds']:>8.1f}  {m['status']}"
        )
    return failures


def main() -> int:
    check_java()
    shutil.rmtree(WORK, ignore_errors=True)
    lake, home = WORK / "lake", WORK / "airflow"
    home.mkdir(parents=True)
    hour_start = (datetime.now(UTC) - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    hour = hour_start.strftime("%Y-%m-%dT%H")
    tables_file(WORK / "tables.yaml")
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags_examples"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__EKS_DATA__PROFILES_DIR": str(ROOT / "dags_examples" / "profiles"),
        "AIRFLOW_VAR_COMPACTION_BACKEND": "local",
        "AIRFLOW_VAR_COMPACTION_LAKE": str(lake),
        "AIRFLOW_VAR_COMPACTION_JOB_FILE": str(ROOT / "dags_examples" / "jobs" / "compact_table.py"),
        "AIRFLOW_VAR_COMPACTION_TABLES_FILE": str(WORK / "tables.yaml"),
    }
    generate = [str(BIN / "python"), "scripts/generate_lake.py", "--lake", str(lake), "--hour", hour]
    run([*generate, "--tables", ",".join(TABLES)], env, "generate a small data lake")
    run([str(BIN / "airflow"), "db", "migrate"], env, "create the Airflow metadata database (SQLite)")
    for tier in ("large", "medium", "small"):
        subprocess.run(
            [str(BIN / "airflow"), "pools", "set", f"compaction_{tier}", "4", f"{tier} tables"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    logical = hour_start.isoformat()
    conf = json.dumps({"hour": hour})
    run(
        [str(BIN / "airflow"), "dags", "test", "hourly_compaction", logical, "-c", conf],
        env,
        "run hourly_compaction on the local backend",
    )
    failures = report(lake, hour)
    print(f"\ndemo: {'all tables compacted and verified' if not failures else f'{failures} table(s) failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
