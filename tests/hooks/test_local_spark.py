"""The local backend's process handling, on plain Python scripts: no JVM needed."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from airflow_eks_data.hooks.local_spark import LocalSparkHook, java_major_version, spark_version_of
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.render.spark_submit import SparkSubmit, render_spark_submit
from airflow_eks_data.resolve import resolve

PRINT_AND_EXIT = """
import os, sys
for i in range(3):
    print(f"line {i}", flush=True)
print("to stderr", file=sys.stderr, flush=True)
print("env", os.environ["JOB_VALUE"], os.environ["SPARK_LOCAL_IP"], flush=True)
sys.exit(int(sys.argv[1]))
"""

# A parent that starts a child, both sleeping and writing their pids: kill() must stop both.
PARENT_AND_CHILD = """
import subprocess, sys, time
pids = sys.argv[1]
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(pids, "w") as f:
    f.write(f"{child.pid}\\n")
print("ready", flush=True)
time.sleep(600)
"""


def script(tmp_path: Path, text: str) -> str:
    path = tmp_path / "job.py"
    path.write_text(text)
    return str(path)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


@pytest.mark.parametrize("code", [0, 3])
def test_run_streams_merged_output_and_returns_the_exit_code(tmp_path: Path, code: int) -> None:
    submit = SparkSubmit(argv=[sys.executable, script(tmp_path, PRINT_AND_EXIT), str(code)], env={"JOB_VALUE": "v1"})
    hook = LocalSparkHook(tail_lines=2)
    seen: list[str] = []
    assert hook.run(submit, seen.append) == code
    assert seen == ["line 0", "line 1", "line 2", "to stderr", "env v1 127.0.0.1"]
    assert list(hook.last_lines) == ["to stderr", "env v1 127.0.0.1"]
    assert hook.tail(1) == "env v1 127.0.0.1"


def test_lines_arrive_while_the_process_runs(tmp_path: Path) -> None:
    slow = "import time\nprint('first', flush=True)\ntime.sleep(1.5)\nprint('second', flush=True)\n"
    stamps: list[float] = []
    LocalSparkHook().run(
        SparkSubmit(argv=[sys.executable, script(tmp_path, slow)]), lambda _: stamps.append(time.monotonic())
    )
    assert len(stamps) == 2
    assert stamps[1] - stamps[0] > 1.0


def test_kill_terminates_the_process_group_including_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    hook = LocalSparkHook()
    ready = threading.Event()
    result: list[int] = []
    submit = SparkSubmit(argv=[sys.executable, script(tmp_path, PARENT_AND_CHILD), str(pids)])
    runner = threading.Thread(target=lambda: result.append(hook.run(submit, lambda line: ready.set())))
    runner.start()
    assert ready.wait(20)
    child = int(pids.read_text())
    started = time.monotonic()
    hook.kill(grace_seconds=5)
    runner.join(10)
    assert not runner.is_alive()
    assert result and result[0] != 0
    assert time.monotonic() - started < 5  # SIGTERM was enough, no wait for the grace period
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_kill_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    hook = LocalSparkHook()
    ready = threading.Event()
    result: list[int] = []
    submit = SparkSubmit(argv=[sys.executable, script(tmp_path, stubborn)])
    runner = threading.Thread(target=lambda: result.append(hook.run(submit, lambda line: ready.set())))
    runner.start()
    assert ready.wait(20)
    hook.kill(grace_seconds=0.5)
    runner.join(10)
    assert result == [-9]


def test_kill_before_run_is_a_no_op() -> None:
    LocalSparkHook().kill(grace_seconds=0)


def test_finds_the_installed_spark_submit_and_java_17() -> None:
    pytest.importorskip("pyspark")
    hook = LocalSparkHook()
    path = Path(hook.find_spark_submit())
    assert path.name == "spark-submit"
    assert path.parent.parent.name == "pyspark"
    assert hook.command(SparkSubmit(argv=["spark-submit", "--version"]))[0] == str(path)
    assert java_major_version("java") >= 17


def fake_pyspark(tmp_path: Path, version_py: str) -> str:
    """A pyspark-shaped directory whose `bin/spark-submit` is a shell script: no JVM."""
    home = tmp_path / "site-packages" / "pyspark"
    (home / "bin").mkdir(parents=True)
    (home / "version.py").write_text(version_py)
    submit = home / "bin" / "spark-submit"
    submit.write_text("#!/bin/sh\necho submitted\n")
    submit.chmod(0o755)
    return str(submit)


def test_spark_version_of_reads_the_files_beside_spark_submit(tmp_path: Path) -> None:
    assert spark_version_of(fake_pyspark(tmp_path, "__version__: str = '4.1.2'\n")) == "4.1.2"
    distribution = tmp_path / "spark-3.5.3-bin-hadoop3"
    (distribution / "bin").mkdir(parents=True)
    (distribution / "RELEASE").write_text("Spark 3.5.3 built for Hadoop 3.3.4\n")
    assert spark_version_of(str(distribution / "bin" / "spark-submit")) == "3.5.3"
    assert spark_version_of(str(tmp_path / "nowhere" / "bin" / "spark-submit")) is None


def test_spark_version_of_the_installed_pyspark() -> None:
    pyspark = pytest.importorskip("pyspark")
    spec = importlib.util.find_spec("pyspark")
    assert spec is not None and spec.submodule_search_locations
    script = Path(next(iter(spec.submodule_search_locations))) / "bin" / "spark-submit"
    assert spark_version_of(str(script)) == pyspark.__version__


@pytest.fixture
def hook_log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The hook's warnings through a standard logger that `caplog` sees (the task SDK's goes to structlog)."""
    logger = logging.getLogger("tests.local_spark")
    monkeypatch.setattr(LocalSparkHook, "log", property(lambda self: logger))
    caplog.set_level(logging.WARNING, logger="tests.local_spark")
    return caplog


def test_a_35_profile_on_pyspark_4_is_said_once_and_still_runs(
    tmp_path: Path, profile: PlatformProfile, hook_log: pytest.LogCaptureFixture
) -> None:
    assert profile.spark_version and profile.spark_version.startswith("3.5.")
    job = SparkJob.from_dict(
        {
            "name": "compact-table",
            "tenant": "datalake",
            "main_application_file": "jobs/compact.py",
            "labels": {"team": "t", "cost-center": "c"},
        }
    )
    spark_submit = fake_pyspark(tmp_path, "__version__: str = '4.3.0'\n")
    submit = render_spark_submit(resolve(job, profile), spark_submit=spark_submit)
    seen: list[str] = []
    assert LocalSparkHook().run(submit, seen.append) == 0
    assert seen == ["submitted"]
    notes = [record.getMessage() for record in hook_log.records if "spark_version is" in record.getMessage()]
    assert notes == [
        f"spark_version is {profile.spark_version} (profile:compaction) but the local spark-submit is Spark 4.3.0: "
        "the local run uses Spark 4.3, not 3.5; for the same Spark as the cluster, install pyspark==3.5.* in "
        "this environment"
    ]


def test_a_matching_local_spark_says_nothing(
    tmp_path: Path, profile: PlatformProfile, hook_log: pytest.LogCaptureFixture
) -> None:
    job = SparkJob.from_dict(
        {
            "name": "compact-table",
            "tenant": "datalake",
            "main_application_file": "jobs/compact.py",
            "labels": {"team": "t", "cost-center": "c"},
        }
    )
    submit = render_spark_submit(resolve(job, profile), spark_submit=fake_pyspark(tmp_path, "__version__ = '3.5.6'\n"))
    assert LocalSparkHook().run(submit, lambda _: None) == 0
    assert not [record for record in hook_log.records if "spark_version is" in record.getMessage()]
