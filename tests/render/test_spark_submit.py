from __future__ import annotations

from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.render.spark_submit import render_spark_submit
from airflow_eks_data.resolve import resolve


def test_local_command_drops_kubernetes_settings(profile: PlatformProfile) -> None:
    job = SparkJob.from_dict(
        {
            "name": "compact-table",
            "tenant": "datalake",
            "main_application_file": "jobs/compact.py",
            "arguments": ["--table", "events"],
            "labels": {"team": "t", "cost-center": "c"},
            "env": {"LAKE_ROOT": "/tmp/lake"},
            "deps": {"py_files": ["a.zip", "b.zip"]},
        }
    )
    command = render_spark_submit(resolve(job, profile))
    argv = command.argv
    assert argv[:5] == ["spark-submit", "--master", "local[*]", "--name", "compact-table"]
    assert argv[-3:] == ["jobs/compact.py", "--table", "events"]
    assert argv[argv.index("--py-files") + 1] == "a.zip,b.zip"
    confs = [argv[i + 1] for i, part in enumerate(argv) if part == "--conf"]
    assert "spark.decommission.enabled=true" in confs
    assert "spark.executorEnv.LAKE_ROOT=/tmp/lake" in confs
    assert not any(c.startswith(("spark.kubernetes.", "spark.local.dir")) for c in confs)
    assert "spark.local.dir" in command.dropped
    assert command.env == {"LAKE_ROOT": "/tmp/lake"}
