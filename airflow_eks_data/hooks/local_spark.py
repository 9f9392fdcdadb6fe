"""The `local` backend's process: `spark-submit` from the installed pyspark, run in the worker.

`LocalSparkHook` finds `spark-submit` and Java, runs a rendered `SparkSubmit` in its own process group
(so that `kill()` also stops the JVM and the Python driver it starts), streams the merged output line by
line as it comes, and keeps the last lines for the error message. Before starting it logs, once, when the
local Spark's major.minor is not the job's `spark_version` (a laptop run still runs). Not deferrable: the
process lives in the worker that started it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from airflow.sdk import BaseHook

from airflow_eks_data.render.spark_submit import SparkSubmit
from airflow_eks_data.render.spark_versions import version_note

MIN_JAVA = 17
INSTALL_HINT = "pip install 'airflow-eks-data[local]'"
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')
_PYSPARK_VERSION = re.compile(r"""^__version__(?:\s*:\s*str)?\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_RELEASE_VERSION = re.compile(r"^Spark (\S+)")


class LocalSparkError(RuntimeError):
    """spark-submit or Java is missing or too old; the message says what to install."""


def java_major_version(java: str) -> int:
    """`java -version` prints to stderr; `1.8.0_392` means 8 and `17.0.15` means 17."""
    output = subprocess.run([java, "-version"], capture_output=True, text=True, check=False, timeout=30)
    match = _JAVA_VERSION.search(output.stderr + output.stdout)
    if not match:
        raise LocalSparkError(f"cannot read the Java version from `{java} -version`: {output.stderr.strip()!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def spark_version_of(spark_submit: str) -> str | None:
    """The Spark version of a `.../bin/spark-submit`, from the files beside it, without starting a JVM:
    pyspark's `version.py` (the pyspark that provides this spark-submit, not whichever imports first), or
    a Spark distribution's `RELEASE`. None when neither says."""
    home = Path(spark_submit).parent.parent
    for name, pattern in (("version.py", _PYSPARK_VERSION), ("RELEASE", _RELEASE_VERSION)):
        try:
            match = pattern.search((home / name).read_text(errors="replace")[:4096])
        except OSError:
            continue
        if match:
            return match.group(1)
    return None


def find_java() -> str:
    """The `java` spark-submit will use: `$JAVA_HOME/bin/java` if set, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise LocalSparkError(f"Java {MIN_JAVA} or later is required for the local backend; none found")
    return java


class LocalSparkHook(BaseHook):
    """Runs one `spark-submit` at a time; `kill()` may be called from another thread (Airflow's on_kill)."""

    conn_name_attr = "local_spark_conn_id"
    hook_name = "Local spark-submit"

    def __init__(self, tail_lines: int = 200, logger_name: str | None = None) -> None:
        super().__init__(logger_name=logger_name)
        self.last_lines: deque[str] = deque(maxlen=tail_lines)
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._killed = False

    def find_spark_submit(self) -> str:
        """The installed pyspark's `bin/spark-submit`, after checking that Java is new enough for it."""
        spec = importlib.util.find_spec("pyspark")
        if spec is None or not spec.submodule_search_locations:
            raise LocalSparkError(f"pyspark is not installed: run `{INSTALL_HINT}` (it also needs Java {MIN_JAVA})")
        script = Path(next(iter(spec.submodule_search_locations))) / "bin" / "spark-submit"
        if not script.exists():
            raise LocalSparkError(f"{script} is missing: reinstall with `{INSTALL_HINT}`")
        java = find_java()
        major = java_major_version(java)
        if major < MIN_JAVA:
            raise LocalSparkError(f"{java} is Java {major}; Spark needs Java {MIN_JAVA} or later")
        return str(script)

    def command(self, submit: SparkSubmit) -> list[str]:
        """The argv with a bare `spark-submit` (what the renderer writes) replaced by the installed one."""
        argv = list(submit.argv)
        if argv and argv[0] == "spark-submit":
            argv[0] = self.find_spark_submit()
        return argv

    @staticmethod
    def notes(submit: SparkSubmit, spark_submit: str) -> list[str]:
        """The render's notes, plus one if the Spark of `spark_submit` is not the job's major.minor."""
        notes = list(submit.notes)
        if submit.spark_version:
            note = version_note(submit.spark_version, spark_version_of(spark_submit), submit.spark_version_origin)
            if note and note not in notes:
                notes.append(note)
        return notes

    @staticmethod
    def environment(submit: SparkSubmit) -> dict[str, str]:
        """The worker's environment plus the job's; Spark stays on loopback and uses this interpreter
        (the one with pyspark) for the driver and the Python workers unless told otherwise."""
        env = {**os.environ, **submit.env}
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def run(self, submit: SparkSubmit, on_line: Callable[[str], None]) -> int:
        """Start the process in its own session, pass each output line to `on_line`, return the exit code."""
        argv = self.command(submit)
        for note in self.notes(submit, argv[0]):
            self.log.warning("%s", note)
        self.last_lines.clear()
        with self._lock:
            if self._killed:
                raise LocalSparkError("killed before it started")
            process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment(submit),
                start_new_session=True,
                text=True,
                errors="replace",
                bufsize=1,
            )
            self._process = process
        assert process.stdout is not None
        with process.stdout:
            for raw in process.stdout:
                line = raw.rstrip("\n")
                self.last_lines.append(line)
                on_line(line)
        return process.wait()

    def kill(self, grace_seconds: float = 10) -> None:
        """SIGTERM to the whole process group (JVM, Python driver, workers), SIGKILL what is left after
        `grace_seconds`."""
        with self._lock:
            self._killed = True
            process = self._process
        if process is None:
            return
        group = process.pid
        if not _signal_group(group, signal.SIGTERM):
            return
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            if process.poll() is not None and not _group_alive(group):
                return
            time.sleep(0.1)
        self.log.warning("spark-submit did not stop within %s s of SIGTERM; sending SIGKILL", grace_seconds)
        _signal_group(group, signal.SIGKILL)

    def tail(self, lines: int = 20) -> str:
        """The last output lines, for the error message of a failed run."""
        return "\n".join(list(self.last_lines)[-lines:])


def _signal_group(group: int, signum: int) -> bool:
    """False if the group no longer exists."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


def _group_alive(group: int) -> bool:
    return _signal_group(group, 0)
