"""The grammar of strings that reach a command line, and `SpecError` from every way a model is built."""

from __future__ import annotations

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import SparkJob
from airflow_eks_data.jobspec.grammar import image_problem, java_name_problem, maven_problem, uri_problem


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("s3://bucket/jobs/a.py", True),
        ("local:///opt/spark/a.jar", True),
        ("/abs/path/a.py", True),
        ("relative/a.py", True),
        ("--conf=spark.x=y", False),
        ("s3://a/b.py --class X", False),
        ("s3://a/b.jar,s3://c/d.jar", False),
        ("gs://bucket/a.py", False),
        ("s3://a/../b.py", False),
        ("spark-internal", False),
        ("s3://bucket/{{ params.file }}", True),
    ],
)
def test_uri(value: str, ok: bool) -> None:
    assert (uri_problem(value) is None) is ok


def test_other_grammars() -> None:
    assert java_name_problem("com.example.Outer$Inner") is None
    assert java_name_problem("Foo --conf x=y") is not None
    assert java_name_problem("org.apache.spark.repl.Main") is not None
    assert maven_problem("org.example:lib:1.0") is None and maven_problem("org.example:lib:1.0,x:y:z") is not None
    assert image_problem("registry.example:5000/team/spark:3.5.1@sha256:" + "a" * 64) is None
    assert image_problem("registry.example/Team/spark") is not None


def test_python_construction_raises_spec_error_with_the_value_as_written() -> None:
    with pytest.raises(SpecError) as caught:
        SparkJob(name="a", main_application_file="s3://b/a.py", executor={"memory": "70000MiB"})
    assert caught.value.lines() == [
        "executor.memory: '70000MiB': a positive whole quantity with a unit: k, m, g, t (Spark) or Ki, Mi, Gi, Ti "
        "(Kubernetes), e.g. 4g"
    ]
    with pytest.raises(SpecError, match="java-class"):
        SparkJob.model_validate({"name": "a", "main_application_file": "s3://b/a.jar", "main_class": "A B"})
    assert SparkJob(name="a", main_application_file="s3://b/a.py", executor={"memory": "70000Mi"}).executor
