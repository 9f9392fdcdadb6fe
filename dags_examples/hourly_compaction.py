"""Hourly data-lake compaction: every hour, each table's small files for that hour become a few large
ones, verified before they are published.

Tables and their tiers come from `config/compaction_tables.yaml` (or the file named by the DAG param
`tables_file` or the Airflow Variable `compaction_tables_file`). Each tier is one mapped task with its
own pool and priority, so the long jobs start first and a burst of small ones cannot starve them.
Where it runs is configuration, not code: Variables `compaction_backend` (`spark_operator`,
`emr_on_eks` or `local`), `compaction_profile`, `compaction_lake` and `compaction_job_file`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from airflow.sdk import DAG, AssetAlias, Param, Variable, get_current_context, task

from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

HERE = Path(__file__).resolve().parent
DEFAULT_TABLES = HERE / "config" / "compaction_tables.yaml"
TIERS = ("large", "medium", "small")  # declared order = start order
# Pools and priorities are fixed when the DAG is parsed, from the default table file.
TIER_SETTINGS: dict[str, dict[str, Any]] = yaml.safe_load(DEFAULT_TABLES.read_text())["tiers"]
COMPACTED = AssetAlias("compacted-tables")
"""Each compacted table hour becomes an event of the table's Asset (`<lake>/compacted/<table>`) through
this alias, with the hour as its partition and the manifest's files, bytes and rows as its extra."""


def setting(name: str, default: str) -> str:
    """An Airflow Variable `compaction_<name>` (environment: `AIRFLOW_VAR_COMPACTION_<NAME>`)."""
    return str(Variable.get(f"compaction_{name}", default=default))


def job_for(table: str, tier: dict[str, Any], hour: str, lake: str, job_file: str) -> dict[str, Any]:
    """The SparkJob of one table's hour."""
    return {
        "name": f"compact-{table.replace('_', '-')}",
        "tenant": "datalake",
        "main_application_file": job_file,
        "arguments": [
            "--table",
            table,
            "--hour",
            hour,
            "--lake",
            lake,
            "--target-file-mb",
            str(tier["target_file_mb"]),
        ],
        "executor": tier["executor"],
        "labels": {"team": "data-platform", "cost-center": "cc-42"},
        "inputs": [f"{lake}/raw/{table}/hour={hour}"],
        "outputs": [f"{lake}/compacted/{table}/hour={hour}"],
    }


with DAG(
    "hourly_compaction",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        "tables_file": Param(None, type=["null", "string"], description="Table list (default: Variable or config)"),
        "hour": Param(None, type=["null", "string"], description="Hour to compact, YYYY-MM-DDTHH (default: the run's)"),
    },
    tags=["compaction", "airflow-eks-data"],
) as dag:

    @task
    def plan(tier: str) -> list[dict[str, Any]]:
        """The jobs of one tier for this run's hour."""
        context = get_current_context()
        params = context["params"]
        start = context["data_interval_start"] or context["logical_date"]
        tables_file = params.get("tables_file") or setting("tables_file", str(DEFAULT_TABLES))
        config = yaml.safe_load(Path(tables_file).read_text())
        hour = params.get("hour") or start.strftime("%Y-%m-%dT%H")
        lake = setting("lake", "s3a://example-lake").rstrip("/")
        job_file = setting("job_file", "s3://example-artifacts/jobs/compact_table.py")
        settings = config["tiers"][tier]
        return [job_for(t["name"], settings, hour, lake, job_file) for t in config["tables"] if t["tier"] == tier]

    results = []
    for tier in TIERS:
        settings = TIER_SETTINGS[tier]
        compact = SparkOnEksOperator.partial(
            task_id=f"compact_{tier}",
            profile="{{ var.value.get('compaction_profile', 'compaction') }}",
            backend="{{ var.value.get('compaction_backend', 'spark_operator') }}",
            pool=settings["pool"],
            pool_slots=settings["pool_slots"],
            priority_weight=settings["priority_weight"],
            retries=2,
            outlets=[COMPACTED],
            manifest_file="_MANIFEST.json",
        ).expand(job=plan.override(task_id=f"plan_{tier}")(tier))
        results.append(compact.output)

    @task(trigger_rule="all_done")
    def summary(*tiers: Any) -> dict[str, Any]:
        """Tables done, files and bytes before and after, interruptions, the slowest jobs."""
        # By index: the mapped results are fetched lazily, and iterating would probe past the end.
        runs = [run for tier in tiers for run in (tier[i] for i in range(len(tier))) if run]
        rows = [m for run in runs for m in (run.get("manifests") or {}).values() if m]
        report = {
            "tables": len(rows),
            "failed_runs": sum(run.get("outcome") != "succeeded" for run in runs),
            "files_in": sum(m["input"]["files"] for m in rows),
            "files_out": sum(m["output"]["files"] for m in rows),
            "bytes_in": sum(m["input"]["bytes"] for m in rows),
            "bytes_out": sum(m["output"]["bytes"] for m in rows),
            "rows_verified": sum(m["output"]["rows"] for m in rows if m["status"] in ("compacted", "unchanged")),
            "interruptions": sum(run.get("interruptions", 0) for run in runs),
            "slowest": sorted(((run["duration_s"], run["job"]) for run in runs), reverse=True)[:5],
            "per_table": rows,
        }
        print(json.dumps({k: v for k, v in report.items() if k != "per_table"}, indent=2))
        return report

    summary(*results)
