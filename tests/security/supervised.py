"""Run a DAG the way a deployment does: `dag.test(use_executor=True)` hands each task to Airflow's
LocalExecutor, whose worker runs Airflow's task supervisor, which forks the task runner and writes
the task log file under `AIRFLOW_HOME/logs` (masking secrets there, as in production). The Task
Execution API the supervisor talks to is Airflow's own app, served by uvicorn on 127.0.0.1.

`dag.test()` without an executor runs tasks in the test process: no supervisor, no log file, and no
masking of what is printed, so it cannot show what a task log would contain.

Run in a fresh interpreter (`run_supervised`): the executor and the API URL are read from the
environment once per process. Deferrable tasks need a triggerer, which this does not start.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_PORT_ENV = "EKS_DATA_TEST_EXECUTION_API_PORT"


@dataclass
class SupervisedRun:
    state: str
    run_id: str
    states: dict[str, str]
    xcom: list[list[Any]]  # [task_id, key, stored value]
    rendered: dict[str, Any]  # task_id -> rendered template fields as stored in the metadata DB
    log_files: list[str]


def run_supervised(airflow_home: Path, dag_id: str, source: str, timeout: float = 600) -> SupervisedRun:
    """Write `source` as `<dag_id>.py` and run it under the LocalExecutor in a fresh interpreter."""
    (airflow_home / "dags" / f"{dag_id}.py").write_text(textwrap.dedent(source))
    out = airflow_home / f"{dag_id}.supervised.json"
    env = {
        **os.environ,
        _PORT_ENV: str(_free_port()),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API_AUTH__JWT_SECRET": "eks-data-tests-only-" + "x" * 32,
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
    }
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{env[_PORT_ENV]}/execution/"
    done = subprocess.run(
        [sys.executable, "-m", "tests.security.supervised", str(airflow_home), dag_id, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        tail = f"{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
        raise AssertionError(f"supervised run failed ({done.returncode}):\n{tail}")
    return SupervisedRun(**json.loads(out.read_text()))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve_execution_api(port: int) -> None:
    import uvicorn
    from airflow.api_fastapi.app import create_app

    config = uvicorn.Config(create_app(apps="execution"), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, name="execution-api", daemon=True).start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the Task Execution API did not start")
        time.sleep(0.05)


def _main(airflow_home: str, dag_id: str, out: str) -> None:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.session import create_session
    from sqlalchemy import select

    _serve_execution_api(int(os.environ[_PORT_ENV]))
    dag_run = get_bagged_dag(None, dag_id).test(use_executor=True)
    with create_session() as session:
        where = (TaskInstance.dag_id == dag_id, TaskInstance.run_id == dag_run.run_id)
        states = {ti.task_id: str(ti.state) for ti in session.scalars(select(TaskInstance).where(*where))}
        xcom = session.execute(
            select(XComModel.task_id, XComModel.key, XComModel.value).where(
                XComModel.dag_id == dag_id, XComModel.run_id == dag_run.run_id
            )
        ).all()
        rendered = session.scalars(
            select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == dag_id, RenderedTaskInstanceFields.run_id == dag_run.run_id
            )
        ).all()
        result = SupervisedRun(
            state=str(dag_run.state),
            run_id=dag_run.run_id,
            states=states,
            xcom=[[task, key, value] for task, key, value in xcom],
            rendered={row.task_id: row.rendered_fields for row in rendered},
            log_files=sorted(str(p) for p in (Path(airflow_home) / "logs").rglob(f"dag_id={dag_id}/**/*.log")),
        )
    Path(out).write_text(json.dumps(asdict(result), default=str))


if __name__ == "__main__":
    _main(*sys.argv[1:4])
