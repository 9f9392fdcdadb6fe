"""A small fault campaign in the default run; `make campaign` runs the full one (docs/reliability.md).

Every story of the showcase on both backends (spot and node loss then success, user error, pending
capacity, an exhausted budget, worker deaths at each point) through 20% API errors, cut watches,
410 Gone, token expiry and triggerer restarts, judged against the scripted truth. It runs in a
process of its own, as `make campaign` does: nothing a test before it left in this process (and
nothing the campaign patches for speed) is shared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.reliability.truth import SHOWCASE

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_campaign_breaks_no_promise(tmp_path: Path) -> None:
    jobs = 2 * len(SHOWCASE)
    figures = tmp_path / "campaign.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_campaign.py"), "--jobs", str(jobs), "--seed", "3"]
    done = subprocess.run([*command, "--json", str(figures)], check=False, capture_output=True, text=True, timeout=600)
    assert figures.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(figures.read_text())

    assert report["violations"] == [], "\n".join(report["violations"])
    assert done.returncode == 0
    total = report["counts"]["total"]
    assert total["jobs"] == jobs
    assert total["duplicate_submissions"] == total["left_running"] == total["state_disagrees"] == 0
    assert total["retries_spent_on_interruptions"] == 0
    assert total["user_errors_failed_without_retry"] == total["user_error_tasks"] > 0
    assert total["interrupted_tasks_one_try"] == total["interrupted_tasks_clean"] > 0
    # The faults really happened, on both services.
    assert sum(total["worker_deaths"].values()) >= 6
    assert all(report["counts"][backend]["injected_errors"] > 0 for backend in ("spark_operator", "emr_on_eks"))
    assert report["triggers"]["rebuilt"] > 0 and report["unauthorized"] > 0
