"""Run a DAG file through Airflow's own `dag.test()` and read back what happened, from the metadata DB."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class DagResult:
    state: str
    tries: dict[str, int]
    states: dict[str, str]
    xcom: dict[str, Any]
    run_id: str


def run_dag(airflow_home: Path, dag_id: str, source: str) -> DagResult:
    """Write `source` as `<dag_id>.py` into the DAGs folder and run it with `dag.test()`."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.session import create_session
    from sqlalchemy import select

    (airflow_home / "dags" / f"{dag_id}.py").write_text(textwrap.dedent(source))
    dag_run = get_bagged_dag(None, dag_id).test()
    with create_session() as session:
        instances = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == dag_run.run_id)
        ).all()
        rows = session.execute(
            select(XComModel.task_id, XComModel.value).where(
                XComModel.dag_id == dag_id, XComModel.run_id == dag_run.run_id, XComModel.key == "return_value"
            )
        ).all()
    xcom = {task: json.loads(value) if isinstance(value, str) else value for task, value in rows}
    return DagResult(
        state=str(dag_run.state),
        tries={ti.task_id: ti.try_number for ti in instances},
        states={ti.task_id: str(ti.state) for ti in instances},
        xcom=xcom,
        run_id=dag_run.run_id,
    )


def run_dag_in_subprocess(airflow_home: Path, dag_id: str, source: str, env: dict[str, str]) -> DagResult:
    """`run_dag` in a fresh interpreter with `env` added: for settings Airflow reads once per process
    (plugins and their listeners, OpenLineage's config, the metrics backend)."""
    import os
    import subprocess
    import sys

    (airflow_home / "dags" / f"{dag_id}.py").write_text(textwrap.dedent(source))
    out = airflow_home / f"{dag_id}.result.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.dagrun", str(airflow_home), dag_id, str(out)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"dag.test() failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}")
    return DagResult(**json.loads(out.read_text()))


def _main(airflow_home: str, dag_id: str, out: str) -> None:
    from dataclasses import asdict

    from airflow.sdk._shared.observability.metrics import stats
    from airflow.sdk.configuration import conf
    from airflow.sdk.observability.metrics import stats_utils

    # What a worker's task runner does first (`task_runner.main()`); `dag.test()` skips it.
    stats.initialize(
        factory=stats_utils.get_stats_factory(), export_legacy_names=conf.getboolean("metrics", "legacy_names_on")
    )
    dag_file = Path(airflow_home) / "dags" / f"{dag_id}.py"
    result = run_dag(Path(airflow_home), dag_id, dag_file.read_text())
    Path(out).write_text(json.dumps(asdict(result)))


if __name__ == "__main__":
    import sys

    _main(*sys.argv[1:4])
