from __future__ import annotations

import copy
from pathlib import Path

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.render.spark_application import render_spark_application
from airflow_eks_data.resolve import resolve
from airflow_eks_data.validate.crd import crd_problems, load_crd_schema


def test_unknown_fields_and_wrong_types_are_reported(job: SparkJob, profile: PlatformProfile, crd_path: Path) -> None:
    manifest = copy.deepcopy(render_spark_application(resolve(job, profile)))
    manifest["spec"]["driver"]["coresx"] = 1
    manifest["spec"]["executor"]["instances"] = "ten"
    manifest["spec"]["type"] = "Go"
    problems = {problem.path: problem.rule for problem in crd_problems(manifest, crd_path)}
    assert "Additional properties" in problems["spec.driver"]
    assert "'ten' is not of type 'integer'" in problems["spec.executor.instances"]
    assert "is not one of" in problems["spec.type"]


def test_templates_keep_unknown_fields(job: SparkJob, profile: PlatformProfile, crd_path: Path) -> None:
    manifest = copy.deepcopy(render_spark_application(resolve(job, profile)))
    manifest["spec"]["driver"]["template"]["spec"]["anythingGoes"] = True
    assert crd_problems(manifest, crd_path) == []


def test_a_file_without_the_crd_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("kind: ConfigMap\n")
    with pytest.raises(SpecError, match="no CustomResourceDefinition"):
        load_crd_schema(path)
