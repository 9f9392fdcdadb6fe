"""What a new user copies from the README works as written, from the repository's root."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES, REPO


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__EKS_DATA__", "AIRFLOW_EKS_DATA_"))}
    return {**env, **extra}


def test_the_python_snippet_runs_from_the_repository_root() -> None:
    readme = (REPO / "README.md").read_text()
    [snippet] = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    assert "export AIRFLOW__EKS_DATA__PROFILES_DIR=dags_examples/profiles" in readme
    code = snippet + "\nassert manifest['kind'] == 'SparkApplication'\n"
    env = _clean_env(AIRFLOW__EKS_DATA__PROFILES_DIR="dags_examples/profiles")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True, capture_output=True)


def test_prepare_finds_profiles_through_airflow_cfg(tmp_path: Path) -> None:
    """`prepare()` honours `[eks_data] profiles_dir` in airflow.cfg, as the operator does."""
    (tmp_path / "airflow.cfg").write_text(f"[eks_data]\nprofiles_dir = {EXAMPLES / 'profiles'}\n")
    code = (
        "from airflow_eks_data import prepare\n"
        "print(prepare('dags_examples/jobs/compact_events.yaml', 'compaction').job.namespace)\n"
    )
    env = _clean_env(AIRFLOW_HOME=str(tmp_path), AIRFLOW_CONFIG=str(tmp_path / "airflow.cfg"))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "datalake"
