from __future__ import annotations

import pytest

from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.render.spark_submit import render_spark_submit
from airflow_eks_data.render.spark_versions import major_minor, version_note
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


LOCAL_JOB = {
    "name": "compact-table",
    "tenant": "datalake",
    "main_application_file": "jobs/compact.py",
    "labels": {"team": "t", "cost-center": "c"},
}


@pytest.mark.parametrize(
    ("job_version", "local_version", "differs"),
    [
        ("3.5.1", "4.3.0", True),
        ("3.5", "3.4.4", True),
        ("4.0.0", "4.1.0.dev0", True),
        ("3.5.1", "3.5.6", False),
        ("4.0.0", "4.0.0-preview2", False),
        ("3.5.1", None, False),
        ("3.5.1", "unknown", False),
        (None, "4.3.0", False),
    ],
)
def test_version_note_compares_major_minor(job_version: str | None, local_version: str | None, differs: bool) -> None:
    note = version_note(job_version, local_version, "profile:compaction")
    assert (note is not None) == differs
    if note:
        assert f"spark_version is {job_version} (profile:compaction)" in note
        assert f"local spark-submit is Spark {local_version}" in note
        assert f"pyspark=={major_minor(job_version)[0]}.{major_minor(job_version)[1]}.*" in note  # type: ignore[index]


def test_major_minor() -> None:
    assert major_minor("3.5.1") == (3, 5)
    assert major_minor("v4.0") == (4, 0)
    assert major_minor("4") is None
    assert major_minor("") is None


def test_a_35_profile_rendered_for_pyspark_4_carries_one_note(profile: PlatformProfile) -> None:
    assert profile.spark_version and profile.spark_version.startswith("3.5.")
    resolved = resolve(SparkJob.from_dict(LOCAL_JOB), profile)
    command = render_spark_submit(resolved, local_spark_version="4.3.0")
    [note] = command.notes
    assert note.startswith(f"spark_version is {profile.spark_version} (profile:compaction)")
    assert "Spark 4.3.0" in note and "uses Spark 4.3, not 3.5" in note
    assert (command.spark_version, command.spark_version_origin) == (profile.spark_version, "profile:compaction")
    assert render_spark_submit(resolved, local_spark_version="3.5.6").notes == []
    assert render_spark_submit(resolved).notes == []  # the version unknown: nothing to say
