"""Property-based: whatever a job or tenant says, `prepare` either refuses it with `SpecError` or
produces a document that the pinned CRD schema and botocore's model both accept.

Strategies stay close to valid jobs (the interesting edges are one field off), with arbitrary text,
numbers and keys where a user can type them. Derandomized, so CI sees the same examples every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.validate.crd import crd_problems
from airflow_eks_data.validate.emr import emr_request_problems

SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
NAMEISH = st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,70}", fullmatch=True), TEXT)
MEMORY = st.one_of(st.from_regex(r"[0-9]{1,6}(k|m|g|t|Ki|Mi|Gi|Ti)?", fullmatch=True), TEXT)
COUNT = st.one_of(st.integers(-5, 20_000), st.none())
CONF_KEY = st.one_of(
    st.sampled_from(
        [
            "spark.sql.shuffle.partitions",
            "spark.kubernetes.namespace",
            " Spark.Kubernetes.Authenticate.driver.serviceAccountName ",
            "spark.kubernetes.driver.podTemplateFile",
            "spark.decommission.enabled",
            "spark.openlineage.parentRunId",
        ]
    ),
    st.from_regex(r"spark\.[a-zA-Z.]{1,30}", fullmatch=True),
    TEXT,
)


def resources(with_instances: bool) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, Any] = {"cores": COUNT, "memory": MEMORY}
    if with_instances:
        fields["instances"] = COUNT
    return st.fixed_dictionaries({}, optional=fields)


JOBS = st.fixed_dictionaries(
    {
        "name": NAMEISH,
        "tenant": st.sampled_from(["datalake", "analytics", "nobody"]),
        "main_application_file": st.one_of(st.just("s3://example-artifacts/jobs/compact_table.py"), TEXT),
    },
    optional={
        "arguments": st.lists(TEXT, max_size=4),
        "driver": resources(False),
        "executor": resources(True),
        "dynamic_allocation": st.fixed_dictionaries(
            {}, optional={"enabled": st.booleans(), "min_executors": COUNT, "max_executors": COUNT}
        ),
        "spark_conf": st.dictionaries(CONF_KEY, TEXT, max_size=4),
        "hadoop_conf": st.dictionaries(TEXT, TEXT, max_size=3),
        "env": st.dictionaries(st.one_of(st.from_regex(r"[A-Z_]{1,12}", fullmatch=True), TEXT), TEXT, max_size=3),
        "labels": st.dictionaries(NAMEISH, NAMEISH, max_size=3),
        "image": st.one_of(st.just("123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark:3.5.1"), TEXT),
        "capacity": st.sampled_from(["spot", "on-demand", "preemptible"]),
        "timeout": st.one_of(st.integers(-1, 10**9), TEXT),
        "interruption_retries": COUNT,
        "local_storage": st.sampled_from(["nvme", "ebs", "none", "tmpfs"]),
    },
)


def _checked(job: dict[str, Any], profile: PlatformProfile, target: str) -> dict[str, Any] | None:
    """The rendered document, or None when the job is refused with SpecError (anything else fails)."""
    job = {**job, "labels": {"team": "data-platform", "cost-center": "cc-42", **job.get("labels", {})}}
    try:
        return prepare(job, profile, target=target).document
    except SpecError as error:
        assert error.problems, "a SpecError must name at least one problem"
        return None


@pytest.mark.parametrize("target", ["spark_operator", "emr_on_eks", "local"])
def test_every_job_is_refused_or_valid(profile: PlatformProfile, crd_path: Path, target: str) -> None:
    @SETTINGS
    @given(JOBS)
    def check(job: dict[str, Any]) -> None:
        document = _checked(job, profile, target)
        if document is None:
            return
        if target == "spark_operator":
            assert crd_problems(document, crd_path) == []
        elif target == "emr_on_eks":
            assert emr_request_problems(document["request"]) == []

    check()


TENANTS = st.fixed_dictionaries(
    {"namespace": NAMEISH, "service_account": NAMEISH},
    optional={
        "max_executors": COUNT,
        "max_executor_memory": MEMORY,
        "allowed_images": st.lists(TEXT, max_size=2),
        "locked_spark_conf": st.lists(st.one_of(st.just("spark.sql.*"), TEXT), max_size=2),
        "spark_conf": st.dictionaries(CONF_KEY, TEXT, max_size=2),
    },
)


@SETTINGS
@given(TENANTS, JOBS)
def test_every_tenant_is_refused_or_valid(
    profile: PlatformProfile, tenant: dict[str, Any], job: dict[str, Any]
) -> None:
    data = profile.model_dump(mode="json", exclude_unset=True)
    data["tenants"]["datalake"] = {**data["tenants"]["datalake"], **tenant}
    try:
        edited = PlatformProfile.from_dict(data)
    except SpecError:
        return
    document = _checked({**job, "tenant": "datalake"}, edited, "emr_on_eks")
    if document is not None:
        assert emr_request_problems(document["request"]) == []
