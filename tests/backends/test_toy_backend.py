"""The seam: a fourth backend added through the registry alone runs a DAG end to end, and the CLI,
profiles and the operator take its name like a built-in one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_eks_data.backends import registry
from airflow_eks_data.cli import main
from airflow_eks_data.errors import SpecError
from airflow_eks_data.pipeline import prepare
from tests.backends import toy
from tests.conftest import PROFILE_PATH
from tests.dagrun import run_dag

JOB = {
    "name": "compact-events",
    "tenant": "datalake",
    "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
    "arguments": ["--hour", "{{ data_interval_start.strftime('%Y-%m-%dT%H') }}"],
    "labels": {"team": "data-platform", "cost-center": "cc-42"},
}


@pytest.fixture
def toy_backend() -> Iterator[toy.Ledger]:
    toy.LEDGER.__init__()  # type: ignore[misc]
    yield toy.LEDGER
    registry.unregister(toy.NAME)


def test_unknown_until_registered(toy_backend: toy.Ledger) -> None:
    with pytest.raises(SpecError, match="backend: 'toy'"):
        prepare(JOB, PROFILE_PATH, target=toy.NAME)
    toy.register_toy()
    assert prepare(JOB, PROFILE_PATH, target=toy.NAME).document["app"].startswith("compact-events")


def test_the_backends_own_checks_run_at_prepare(toy_backend: toy.Ledger) -> None:
    toy.register_toy()
    with pytest.raises(SpecError, match="the toy queue takes at most 2 arguments"):
        prepare({**JOB, "arguments": ["a", "b", "c"]}, PROFILE_PATH, target="toy")


def test_the_cli_renders_for_it(toy_backend: toy.Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toy.register_toy()
    job = tmp_path / "job.yaml"
    job.write_text(json.dumps(JOB))
    assert main(["render", str(job), "--profile", str(PROFILE_PATH), "--target", "toy", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["main"] == JOB["main_application_file"]


def test_a_dag_runs_through_it(toy_backend: toy.Ledger, airflow_home: Path) -> None:
    """Submitted, interrupted, resubmitted escalated after the backoff (deferred both times), succeeded."""
    toy_backend.fates = ["interrupted", "succeeded"]
    result = run_dag(
        airflow_home,
        "toy_backend",
        f"""
        from airflow.sdk import DAG
        from airflow_eks_data.operators import SparkOnEksOperator
        from tests.backends.toy import register_toy

        register_toy()
        with DAG("toy_backend", schedule=None, catchup=False):
            SparkOnEksOperator(task_id="spark", job={JOB!r}, profile={str(PROFILE_PATH)!r}, backend="toy",
                               interruption_backoff=0.05)
        """,
    )
    assert result.state == "success" and result.tries["spark"] == 1
    out = result.xcom["spark"]
    assert (out["backend"], out["location"], out["queue"]) == ("toy", "toy-queue", "toy-queue")
    assert [a["outcome"] for a in out["attempts"]] == ["interrupted", "succeeded"]
    assert out["attempts"][0]["escalation"]["driver_on_demand"] is True
    assert out["history_url"] == f"https://toy.example/{out['name']}"
    names = [submitted["app"] for submitted in toy_backend.submitted]
    assert [submitted["attempt"] for submitted in toy_backend.submitted] == [1, 2]
    assert len(set(names)) == 2 and out["name"] == names[1]
    assert toy_backend.cancelled == names[:1]  # the interrupted attempt had no finished state: cancelled
