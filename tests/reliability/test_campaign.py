"""Small fault campaigns in the default run; `make campaign` runs the full one (docs/reliability.md).

Every story of the showcase on each backend (spot and node loss then success, user error, pending
capacity, an exhausted budget, worker deaths at each point) through 20% API errors, cut watches,
410 Gone, token expiry and triggerer restarts, judged against the scripted truth; then EMR on EKS
behind full virtual-cluster queues. Each runs in a process of its own, as `make campaign` does:
nothing a test before it left in this process (and nothing the campaign patches for speed) is shared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.reliability.truth import BACKENDS, SHOWCASE

ROOT = Path(__file__).resolve().parents[2]


def campaign(tmp_path: Path, jobs: int, *options: str) -> dict[str, Any]:
    figures = tmp_path / "campaign.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_campaign.py"), "--jobs", str(jobs), *options]
    done = subprocess.run([*command, "--json", str(figures)], check=False, capture_output=True, text=True, timeout=600)
    assert figures.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    report: dict[str, Any] = json.loads(figures.read_text())
    assert report["violations"] == [], "\n".join(report["violations"])
    assert done.returncode == 0
    total = report["counts"]["total"]
    assert total["jobs"] == jobs
    assert total["duplicate_submissions"] == total["left_running"] == total["state_disagrees"] == 0
    assert total["unexpected_submissions"] == total["missing_submissions"] == 0
    return report


def test_a_small_campaign_breaks_no_promise(tmp_path: Path) -> None:
    report = campaign(tmp_path, len(BACKENDS) * len(SHOWCASE), "--seed", "3")
    total = report["counts"]["total"]
    assert total["retries_spent_on_interruptions"] == 0
    assert total["user_errors_failed_without_retry"] == total["user_error_tasks"] > 0
    assert total["interrupted_tasks_one_try"] == total["interrupted_tasks_clean"] > 0
    # The faults really happened, on every service.
    assert sum(total["worker_deaths"].values()) >= 9
    assert all(report["counts"][backend]["injected_errors"] > 0 for backend in BACKENDS)
    assert report["triggers"]["rebuilt"] > 0 and report["unauthorized"] > 0


def test_jobs_beyond_a_full_emr_queue_all_run_once(tmp_path: Path) -> None:
    """Two virtual clusters of 3 running and 8 queued take 30 jobs at once: StartJobRun is refused
    until a slot frees, and every job still runs each of its attempts exactly once."""
    options = ("--seed", "5", "--backends", "emr_on_eks", "--emr-queue", "3,8", "--concurrency", "30")
    emr = campaign(tmp_path, 30, *options)["counts"]["emr_on_eks"]
    assert emr["queue_full_refusals"] > 0 and emr["queued_for_a_slot"] > 0
    assert emr["verdicts_disagree"] == 0
