"""Credentials in a job never show in what Airflow keeps or prints: task log files, rendered template
fields, XCom, and the CLI's output. One DAG run under Airflow's own supervisor (so the task log file is
written, and masked, as in a deployment) against the test API server; the driver echoes every secret
into its log (as Spark does with `spark.logConf`), and the operator tails that log into the task log.

The SparkApplication itself carries the secrets to the cluster: that is what they are for.
"""

from __future__ import annotations

import base64
import io
import json
import random
from collections.abc import Iterator
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.cli import main
from tests.conftest import PROFILE_PATH
from tests.kubeapi.scenarios import Succeed
from tests.kubeapi.server import KubeApiServer
from tests.security.supervised import SupervisedRun, run_supervised

_random = random.Random(20261124)
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _b64(size: int) -> str:
    """Base64 text of random bytes, as AWS issues secret keys and session tokens (no ambiguity: seeded)."""
    while True:
        text = base64.b64encode(_random.randbytes(size)).decode().rstrip("=")
        if any(c.isdigit() for c in text) and any(c.isupper() for c in text) and any(c.islower() for c in text):
            return text


SECRETS = {
    "access key id (name and shape)": "AKIA" + "".join(_random.choices(_UPPER + "234567", k=16)),
    "secret key (name and shape)": _b64(30)[:40],
    "session token (name and shape)": _b64(180),
    "api key in Spark conf (name)": "correct-horse-battery-staple",
    "env password (name)": "pg-Pa55word-for-the-lake",
    "access key id under an innocent key (shape)": "ASIA" + "".join(_random.choices(_UPPER, k=16)),
    "secret key in an innocent env var (shape)": _b64(30)[:40],
    "option argument (name)": "tok-live-7f3a9c2e5b",
}
TEMPLATED = "AKIA" + "".join(_random.choices(_UPPER, k=16))
"""A shape-only secret that reaches the job through Jinja (an Airflow Variable with an innocent name)."""


def secret_job(templated: bool) -> dict[str, Any]:
    s = list(SECRETS.values())
    # Credential keys of Spark, Hadoop and AWS are the platform's (docs/security.md): a job's own secrets
    # reach the pods as its environment, its arguments and its application's settings.
    spark_conf = {"spark.example.apiKey": s[3], "spark.example.sourceId": s[5]}
    if templated:
        spark_conf["spark.example.templatedId"] = "{{ var.value.plain_source_id }}"
    return {
        "name": "compact-events",
        "tenant": "datalake",
        "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
        "arguments": ["--table", "events", "--api-token", s[7]],
        "spark_conf": spark_conf,
        "env": {
            "LAKE_ACCESS_KEY_ID": s[0],
            "LAKE_SECRET_ACCESS_KEY": s[1],
            "LAKE_SESSION_TOKEN": s[2],
            "DB_PASSWORD": s[4],
            "LOOKS_HARMLESS": s[6],
        },
        "labels": {"team": "data-platform", "cost-center": "cc-42"},
    }


def leaks(text: str, secrets: Any) -> list[str]:
    """Secrets found in `text`, as written or JSON-escaped."""
    return [s for s in secrets if s in text or json.dumps(s)[1:-1] in text]


@pytest.fixture(scope="module")
def run(airflow_home: Path, module_kube_api: KubeApiServer) -> Iterator[tuple[SupervisedRun, KubeApiServer]]:
    server = module_kube_api
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW_VAR_PLAIN_SOURCE_ID", TEMPLATED)
        echoed = " ".join(f"{key}={value}" for key, value in [*SECRETS.items(), ("templated", TEMPLATED)])
        server.script("compact-events-*", Succeed(log_lines=(f"INFO SparkConf: {echoed}",)))
        result = run_supervised(
            airflow_home,
            "secret_masking",
            f"""
            from airflow.sdk import DAG
            from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

            with DAG("secret_masking", schedule=None, catchup=False):
                SparkOnEksOperator(task_id="spark", job={secret_job(templated=True)!r},
                                   profile={str(PROFILE_PATH)!r}, deferrable=False, poll_interval=0.5)
            """,
        )
        yield result, server


def test_the_run_carried_the_secrets_to_the_cluster(run: tuple[SupervisedRun, KubeApiServer]) -> None:
    result, server = run
    assert result.state == "success", result
    [app] = server.list("SparkApplication", namespace="datalake")
    submitted = json.dumps(app["spec"])
    assert leaks(submitted, [*SECRETS.values(), TEMPLATED]) == [*SECRETS.values(), TEMPLATED]


def test_task_log_file(run: tuple[SupervisedRun, KubeApiServer]) -> None:
    result, _ = run
    assert result.log_files, "the supervisor wrote no task log file"
    text = "".join(Path(path).read_text() for path in result.log_files)
    assert "INFO SparkConf: " in text, "the driver log tail (where the secrets were echoed) is not in the task log"
    assert leaks(text, [*SECRETS.values(), TEMPLATED]) == []


def test_xcom(run: tuple[SupervisedRun, KubeApiServer]) -> None:
    result, _ = run
    assert {key for _, key, _ in result.xcom} >= {"return_value"}
    assert leaks(json.dumps(result.xcom), [*SECRETS.values(), TEMPLATED]) == []


def test_rendered_template_fields(run: tuple[SupervisedRun, KubeApiServer]) -> None:
    result, _ = run
    rendered = result.rendered["spark"]
    assert rendered["job"]["env"]["LAKE_SECRET_ACCESS_KEY"] == "***"
    assert leaks(json.dumps(rendered), SECRETS.values()) == []


def test_rendered_template_fields_templated_shape_only(run: tuple[SupervisedRun, KubeApiServer]) -> None:
    result, _ = run
    assert leaks(json.dumps(result.rendered["spark"]), [TEMPLATED]) == []


@pytest.mark.parametrize("target", ["spark-operator", "emr-on-eks", "local"])
@pytest.mark.parametrize("command", ["render", "explain"])
def test_cli_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, target: str) -> None:
    monkeypatch.setenv("AIRFLOW_EKS_DATA_NO_AIRFLOW_CONFIG", "1")
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump(secret_job(templated=False)))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        code = main([command, str(job), "--profile", str(PROFILE_PATH), "--target", target], out=out)
    assert code == 0, err.getvalue()
    assert "***" in out.getvalue()
    assert leaks(out.getvalue() + err.getvalue(), SECRETS.values()) == []


def test_cli_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused job's problems name the key and the rule, never the credential."""
    monkeypatch.setenv("AIRFLOW_EKS_DATA_NO_AIRFLOW_CONFIG", "1")
    s = list(SECRETS.values())
    bad = secret_job(templated=False)
    bad["spark_conf"] = {
        "spark.kubernetes.authenticate.submission.oauthToken": s[2],  # platform key, credential name
        "spark.kubernetes.namespace": s[0],  # platform key, credential shape
        "spark.executor.memory": s[1],  # typed key
    }
    bad["env"] = {"1DB_PASSWORD": s[4]}
    bad["labels"] = {"team": s[6]}  # not a label value: refused by the model, showing its input
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump(bad))
    out = io.StringIO()
    assert main(["validate", str(job), "--profile", str(PROFILE_PATH)], out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines, "no problem reported"
    assert leaks(out.getvalue(), SECRETS.values()) == []
    assert any("platform-key" in line and "oauthToken" in line for line in lines)
