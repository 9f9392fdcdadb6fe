"""`SparkOnEksOperator(backend="local")` under `dag.test()`: real spark-submit from the installed pyspark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROFILE_PATH
from tests.dagrun import run_dag

SCRIPT = """
import sys
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
rows = spark.range(1000).count()
print(f"counted {rows} rows", flush=True)
spark.stop()
if sys.argv[1] == "fail":
    raise SystemExit("compaction input s3a://lake/raw/missing/ does not exist")
"""


@pytest.mark.spark
@pytest.mark.parametrize(("mode", "dag_state"), [("ok", "success"), ("fail", "failed")])
def test_local_backend(
    airflow_home: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], mode: str, dag_state: str
) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    job = {
        "name": "local-job",
        "tenant": "datalake",
        "main_application_file": str(script),
        "arguments": [mode],
        "labels": {"team": "data-platform", "cost-center": "cc-42"},
        "driver": {"memory": "512m"},
    }
    dag_id = f"local_{mode}"
    result = run_dag(
        airflow_home,
        dag_id,
        f"""
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        with DAG({dag_id!r}, schedule=None, catchup=False):
            SparkOnEksOperator(task_id="spark", job={job!r}, profile={str(PROFILE_PATH)!r}, backend="local", retries=2)
        """,
    )
    output = capfd.readouterr().out
    assert result.state == dag_state
    assert "counted 1000 rows" in output  # the driver's output is streamed into the task log
    if mode == "ok":
        out = result.xcom["spark"]
        assert out["backend"] == "local" and out["outcome"] == "succeeded"
    else:
        assert "does not exist" in output
        assert result.tries["spark"] == 1  # an application failure spends no Airflow retry


SLEEPER = """
import os, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
print("driver up", flush=True)
time.sleep(600)
"""


@pytest.mark.spark
def test_task_timeout_kills_the_driver_process_tree(airflow_home: Path, tmp_path: Path) -> None:
    """Airflow's execution_timeout calls on_kill: spark-submit, its JVM and the Python driver all go."""
    import os
    import subprocess

    script, pid_file = tmp_path / "sleeper.py", tmp_path / "driver.pid"
    script.write_text(SLEEPER)
    job = {
        "name": "local-sleeper",
        "tenant": "datalake",
        "main_application_file": str(script),
        "arguments": [str(pid_file)],
        "labels": {"team": "data-platform", "cost-center": "cc-42"},
    }
    result = run_dag(
        airflow_home,
        "local_timeout",
        f"""
        from datetime import timedelta
        from airflow.sdk import DAG
        from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

        with DAG("local_timeout", schedule=None, catchup=False):
            SparkOnEksOperator(task_id="spark", job={job!r}, profile={str(PROFILE_PATH)!r}, backend="local",
                               execution_timeout=timedelta(seconds=25))
        """,
    )
    assert result.states["spark"] == "failed"
    left = subprocess.run(["pgrep", "-f", str(script)], capture_output=True, text=True, check=False).stdout
    assert left == ""  # nothing of the run survives the task
    if pid_file.exists():  # the driver had started: it was killed, not orphaned
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)
