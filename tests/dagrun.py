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
    )
