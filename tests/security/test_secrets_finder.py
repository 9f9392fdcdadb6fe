"""The pure secret finder: which values count as credentials, and how output is masked."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_eks_data.errors import Problem
from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.masking import (
    MASK,
    find_secrets,
    is_sensitive_name,
    is_sensitive_rendered_key,
    job_secrets,
    masked_value,
    redact,
    shaped_secrets,
)
from airflow_eks_data.pipeline import prepare
from tests.conftest import PROFILE_PATH

ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    "name",
    ["fs.s3a.secret.key", "fs.s3a.access.key", "fs.s3a.session.token", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD",
     "spark.ssl.keyPassword", "spark.authenticate.secret", "spark.openlineage.transport.auth.apiKey", "--api-token"],
)  # fmt: skip
def test_credential_names(name: str) -> None:
    assert is_sensitive_name(name)


@pytest.mark.parametrize(
    "name", ["spark.sql.shuffle.partitions", "fs.s3a.aws.credentials.provider", "team", "spark.executor.memory"]
)
def test_other_names(name: str) -> None:
    assert not is_sensitive_name(name)


def test_shapes_whatever_the_key() -> None:
    text = f"s3a://{ACCESS_KEY_ID}:{SECRET_KEY}@bucket/x --sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
    assert [found for found, _ in shaped_secrets(text)] == [ACCESS_KEY_ID, SECRET_KEY]


def test_found_by_key_option_assignment_and_shape() -> None:
    job = {
        "spark_conf": {"spark.ssl.keyPassword": "hunter2hunter2", "spark.x": ACCESS_KEY_ID},
        "env": {"DB_PASSWORD": 12345678},
        "arguments": ["--password", "p4ss-word", "--token=t0k-t0k", "--table", "events"],
    }
    found = {secret.value: secret.path for secret in find_secrets(job)}
    assert found == {
        "hunter2hunter2": "spark_conf.spark.ssl.keyPassword",
        ACCESS_KEY_ID: "spark_conf.spark.x",
        "12345678": "env.DB_PASSWORD",
        "p4ss-word": "arguments[1]",
        "t0k-t0k": "arguments[2]",
    }


def test_cycles_and_shared_references_are_walked_once() -> None:
    shared: list[Any] = [SECRET_KEY]
    loop: dict[str, Any] = {"password": "abcdefgh", "items": [shared, shared]}
    loop["self"] = loop
    assert sorted(s.value for s in find_secrets(loop)) == sorted(["abcdefgh", SECRET_KEY])
    copy = redact(loop)
    assert copy["password"] == MASK and copy["self"] is copy and copy["items"][0] is copy["items"][1]


def test_redact_masks_values_in_any_string_and_keys_by_name() -> None:
    document = {"argv": ["--conf", f"spark.hadoop.fs.s3a.secret.key={SECRET_KEY}"], "env": {"DB_PASSWORD": "abc"}}
    assert redact(document, [SECRET_KEY]) == {
        "argv": ["--conf", f"spark.hadoop.fs.s3a.secret.key={MASK}"],
        "env": {"DB_PASSWORD": MASK},  # shorter than 5 characters, masked by its key only
    }


def test_rendered_idempotency_tokens_are_not_secrets() -> None:
    assert not is_sensitive_rendered_key("request.clientToken")
    assert is_sensitive_rendered_key("spec.sparkConf[spark.hadoop.fs.s3a.session.token]")


def test_masked_value_by_path() -> None:
    assert masked_value("spark_conf[fs.s3a.secret.key]", "x") == MASK
    assert masked_value("arguments", ["--key", ACCESS_KEY_ID]) == ["--key", MASK]


def test_problems_never_show_credentials() -> None:
    shown = str(Problem("spark_conf[spark.kubernetes.namespace]", f"{ACCESS_KEY_ID}", f"no: {SECRET_KEY}"))
    assert ACCESS_KEY_ID not in shown and SECRET_KEY not in shown


def test_job_secrets_cover_every_layer() -> None:
    """The profile and tenant layers put values into the rendered document too."""
    job = {
        "name": "compact-events",
        "tenant": "datalake",
        "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
        "labels": {"team": "data-platform", "cost-center": "cc-42"},
        "arguments": ["--id", ACCESS_KEY_ID],
    }
    profile = PlatformProfile.from_yaml(PROFILE_PATH)
    platform = profile.model_copy(update={"hadoop_conf": {"fs.s3a.secret.key": SECRET_KEY}})
    prepared = prepare(job, platform)
    assert {s.value for s in job_secrets(prepared.job)} == {SECRET_KEY, ACCESS_KEY_ID}
