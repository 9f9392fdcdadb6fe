from __future__ import annotations

from pathlib import Path

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import SparkJob
from tests.conftest import JOB_PATH

ISSUE_JOB = """\
name: compact-events
tenant: datalake
type: Scala
main_application_file: s3://example-artifacts/jars/compaction_2.12-1.0.jar
main_class: com.example.datalake.Compaction
arguments: ["--table", "events", "--hour", "2026-11-23T10"]
driver: {cores: 1, memory: 2g}
executor: {cores: 4, memory: 8g, instances: 10}
labels: {team: data-platform, cost-center: cc-42}
"""


def test_the_issue_job_loads_as_is(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(ISSUE_JOB)
    job = SparkJob.from_yaml(path)
    assert job.executor is not None and job.executor.instances == 10
    assert job.labels == {"team": "data-platform", "cost-center": "cc-42"}
    assert job == SparkJob.from_yaml(JOB_PATH)


def test_yaml_scalars_become_strings() -> None:
    job = SparkJob.from_dict(
        {
            "name": "a",
            "main_application_file": "x.py",
            "spark_conf": {"spark.x": True, "spark.y": 3},
            "arguments": [1, "b"],
        }
    )
    assert job.spark_conf == {"spark.x": "true", "spark.y": "3"}
    assert job.arguments == ["1", "b"]


@pytest.mark.parametrize(("main", "kind"), [("s3://b/job.py", "Python"), ("s3://b/job.R", "R")])
def test_type_is_inferred(main: str, kind: str) -> None:
    assert SparkJob.from_dict({"name": "a", "main_application_file": main}).type == kind


def test_a_jar_needs_a_main_class() -> None:
    with pytest.raises(SpecError) as caught:
        SparkJob.from_dict({"name": "a", "main_application_file": "s3://b/app.jar"})
    assert caught.value.lines() == ["main_class: <missing>: required for Scala jobs"]


def test_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: a\nmain_application_file: x.py\nexecutor: {memory: 4gb}\n")
    with pytest.raises(SpecError) as caught:
        SparkJob.from_yaml(path)
    assert caught.value.lines()[0].startswith(f"{path}: executor.memory: '4gb': ")


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read file"):
        SparkJob.from_yaml(tmp_path / "nope.yaml")


def test_templated_values_are_kept() -> None:
    job = SparkJob.from_dict(
        {
            "name": "a",
            "main_application_file": "x.py",
            "arguments": ["{{ ds }}"],
            "labels": {"run": "{{ run_id }}"},
        }
    )
    assert job.arguments == ["{{ ds }}"]
