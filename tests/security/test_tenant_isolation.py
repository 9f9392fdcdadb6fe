"""The refusal matrix: every cross-tenant or privilege attempt in `attempts.yaml`, through every input
path (a job YAML file rendered for each backend, the operator's arguments at DAG parse, Jinja values
rendered when the task runs), is refused before anything is submitted, by a problem naming the rule.
The counts are published in docs/security.md, and checked against it here.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.pipeline import prepare
from tests.conftest import PROFILE_PATH, REPO
from tests.dagrun import run_dag
from tests.kubeapi.server import KubeApiServer
from tests.test_bad_inputs import _deep_merge

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "attempts.yaml").read_text())
STATIC = [case for case in CASES if not case.get("runtime")]
RUNTIME = [case for case in CASES if case.get("runtime")]
TARGETS = ("spark_operator", "emr_on_eks", "emr_serverless", "local")
PATHS = (*(f"job YAML for {target}" for target in TARGETS), "operator arguments")
DOCS = REPO / "docs" / "security.md"
BASE_JOB: dict[str, Any] = {
    "name": "compact-events",
    "tenant": "datalake",
    "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
    "arguments": ["--table", "events"],
    "labels": {"team": "data-platform", "cost-center": "cc-42"},
}


@dataclass
class Outcome:
    """What one attempt through one path met: refused (and with what), or let through."""

    refused: bool
    message: str

    def names(self, case: dict[str, Any]) -> bool:
        return case["rule"] in self.message and (not case.get("at") or f"{case['at']}:" in self.message)


def job_of(case: dict[str, Any]) -> dict[str, Any]:
    return _deep_merge(BASE_JOB, case["doc"])


def profile_of(case: dict[str, Any]) -> PlatformProfile:
    data = yaml.safe_load(PROFILE_PATH.read_text())
    return PlatformProfile.from_dict(_deep_merge(data, case.get("profile", {})))


def _refusal(attempt: Callable[[], object]) -> Outcome:
    try:
        attempt()
    except SpecError as error:
        return Outcome(True, "\n".join(error.lines()))
    return Outcome(False, "accepted")


def paths_of(case: dict[str, Any]) -> list[str]:
    """The input paths an attempt is tried through: every backend's, unless it is about one backend."""
    targets = case.get("targets", TARGETS)
    return [path for path in PATHS if not path.startswith("job YAML") or path.rsplit(" ", 1)[1] in targets]


def through_job_yaml(case: dict[str, Any], directory: Path, target: str) -> Outcome:
    """As `airflow-eks-data validate JOB --tenant T --target T` and `prepare()` read it: from a file."""
    path = directory / f"{case['id']}.yaml"
    path.write_text(yaml.safe_dump(job_of(case), allow_unicode=True))
    return _refusal(
        lambda: prepare(SparkJob.from_yaml(path), profile_of(case), tenant=case.get("tenant"), target=target)
    )


def through_operator(case: dict[str, Any], profile: PlatformProfile | Path | str | None = None) -> Outcome:
    """As a DAG file builds the task: the operator checks its job when the DAG is parsed."""
    from airflow.sdk import DAG

    from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

    chosen = profile or profile_of(case)
    with DAG(f"matrix_{case['id']}", schedule=None):
        return _refusal(
            lambda: SparkOnEksOperator(task_id="spark", job=job_of(case), profile=chosen, tenant=case.get("tenant"))
        )


@dataclass
class RuntimeRun:
    outcomes: dict[str, Outcome]
    parsed: bool
    applications: int


@pytest.fixture(scope="module")
def runtime_run(airflow_home: Path, module_kube_api: KubeApiServer) -> RuntimeRun:
    """One `dag.test()` of a DAG with one task per run-time attempt; each task's failure is recorded by
    its `on_failure_callback`, and the server is asked afterwards what was created."""
    failures = airflow_home / "matrix_failures.json"
    failures.unlink(missing_ok=True)
    tasks = "\n".join(
        f"    SparkOnEksOperator(task_id={case['id'].replace('-', '_')!r}, job={job_of(case)!r}, "
        f"profile={str(PROFILE_PATH)!r}, params={{'value': {case['value']!r}}}, on_failure_callback=record, "
        "deferrable=False, poll_interval=0.5)"
        for case in RUNTIME
    )
    source = f"""
import json
import pathlib

from airflow.sdk import DAG
from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

OUT = pathlib.Path({str(failures)!r})


def record(context):
    seen = json.loads(OUT.read_text()) if OUT.exists() else {{}}
    seen[context["ti"].task_id] = f"{{type(context['exception']).__name__}}: {{context['exception']}}"
    OUT.write_text(json.dumps(seen))


with DAG("tenant_isolation_runtime", schedule=None, catchup=False):
{tasks}
"""
    result = run_dag(airflow_home, "tenant_isolation_runtime", source)
    seen = json.loads(failures.read_text()) if failures.exists() else {}
    outcomes = {}
    for case in RUNTIME:
        task = case["id"].replace("-", "_")
        failed = result.states.get(task) == "failed"
        outcomes[case["id"]] = Outcome(failed and "SpecError" in seen.get(task, ""), seen.get(task, "accepted"))
    return RuntimeRun(outcomes, parsed=bool(result.states), applications=len(module_kube_api.list("SparkApplication")))


@pytest.fixture(scope="module")
def static_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Outcome]:
    directory = tmp_path_factory.mktemp("attempts")
    outcomes = {}
    for case in STATIC:
        for path in paths_of(case):
            if path == PATHS[-1]:
                outcomes[(case["id"], path)] = through_operator(case)
            else:
                outcomes[(case["id"], path)] = through_job_yaml(case, directory, path.rsplit(" ", 1)[1])
    return outcomes


@pytest.mark.parametrize(
    ("case", "path"),
    [(case, path) for case in STATIC for path in paths_of(case)],
    ids=[f"{case['id']}-{path}" for case in STATIC for path in paths_of(case)],
)
def test_refused(static_outcomes: dict[tuple[str, str], Outcome], case: dict[str, Any], path: str) -> None:
    outcome = static_outcomes[(case["id"], path)]
    assert outcome.refused, f"{case['id']} was accepted through the {path}"
    assert outcome.names(case), f"{case['id']}: no problem names {case['rule']!r}: {outcome.message}"


@pytest.mark.parametrize("case", RUNTIME, ids=[case["id"] for case in RUNTIME])
def test_refused_at_run_time(runtime_run: RuntimeRun, case: dict[str, Any]) -> None:
    assert not through_operator(case).refused, "a run-time attempt must pass at parse"
    outcome = runtime_run.outcomes[case["id"]]
    assert outcome.refused, f"{case['id']} was not refused when the task ran: {outcome.message}"
    assert outcome.names(case), f"{case['id']}: no problem names {case['rule']!r}: {outcome.message}"


def test_nothing_reached_the_cluster(runtime_run: RuntimeRun) -> None:
    assert runtime_run.parsed
    assert runtime_run.applications == 0


def figures(
    static: dict[tuple[str, str], Outcome], runtime: dict[str, Outcome]
) -> tuple[int, int, collections.Counter[str], collections.Counter[str]]:
    """Attempts and refusals, overall and per vector."""
    vector = {case["id"]: case["vector"] for case in CASES}
    attempts: collections.Counter[str] = collections.Counter()
    refused: collections.Counter[str] = collections.Counter()
    for case_id, outcome in [*((key[0], o) for key, o in static.items()), *runtime.items()]:
        attempts[vector[case_id]] += 1
        refused[vector[case_id]] += outcome.refused
    return sum(attempts.values()), sum(refused.values()), attempts, refused


def published_table(static: dict[tuple[str, str], Outcome], runtime: dict[str, Outcome]) -> str:
    total, refused_total, attempts, refused = figures(static, runtime)
    rows = [f"| {name} | {attempts[name]} | {refused[name]} |" for name in sorted(attempts)]
    return "\n".join(
        [
            "| vector | attempts | refused |",
            "|---|---|---|",
            *rows,
            f"| **all** | **{total}** | **{refused_total}** |",
        ]
    )


def test_published_figures(static_outcomes: dict[tuple[str, str], Outcome], runtime_run: RuntimeRun) -> None:
    """docs/security.md shows the figures this run measured (paste the table below when attempts change)."""
    table = published_table(static_outcomes, runtime_run.outcomes)
    total, refused, _, _ = figures(static_outcomes, runtime_run.outcomes)
    assert (total, refused) == (sum(len(paths_of(case)) for case in STATIC) + len(RUNTIME), total)
    assert table in DOCS.read_text(), f"docs/security.md should contain:\n{table}"


# --- the profile itself comes from the DAG: refused under [eks_data] trusted_profiles_only -------------------


def _attacker_profile() -> PlatformProfile:
    """A profile a DAG author writes: tenant `datalake` mapped to the analytics namespace and account."""
    data = yaml.safe_load(PROFILE_PATH.read_text())
    data["tenants"]["datalake"].update(namespace="analytics", service_account="spark-analytics")
    return PlatformProfile.from_dict(data)


@pytest.mark.parametrize("form", ["object", "path"])
def test_profile_supplied_by_the_dag(form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__EKS_DATA__TRUSTED_PROFILES_ONLY", "True")
    profile: PlatformProfile | Path = _attacker_profile()
    if form == "path":
        profile = tmp_path / "mine.yaml"
        profile.write_text(yaml.safe_dump(_attacker_profile().model_dump(mode="json", exclude_unset=True)))
    outcome = through_operator({"id": f"profile-{form}", "doc": {}}, profile)
    assert outcome.refused and "trusted-profile" in outcome.message


def test_trusted_profiles_accept_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__EKS_DATA__TRUSTED_PROFILES_ONLY", "True")
    monkeypatch.setenv("AIRFLOW__EKS_DATA__PROFILES_DIR", str(PROFILE_PATH.parent))
    assert not through_operator({"id": "profile-name", "doc": {}}, PROFILE_PATH.stem).refused
