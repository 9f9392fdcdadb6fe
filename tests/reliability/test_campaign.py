"""A small fault campaign in the default run; `make campaign` runs the full one (docs/reliability.md).

Every story of the showcase on both backends (spot and node loss then success, user error, pending
capacity, an exhausted budget, worker deaths at each point) through 20% API errors, cut watches,
410 Gone, token expiry and triggerer restarts, judged against the scripted truth.
"""

from __future__ import annotations

from tests.reliability.harness import CampaignConfig, run_campaign
from tests.reliability.truth import SHOWCASE


def test_a_small_campaign_breaks_no_promise() -> None:
    jobs = 2 * len(SHOWCASE)
    report = run_campaign(CampaignConfig(jobs=jobs, seed=3))

    assert report.violations == [], "\n".join(report.violations)
    total = report.total
    assert total.jobs == jobs
    assert total.duplicate_submissions == total.left_running == total.state_disagrees == 0
    assert total.retries_spent_on_interruptions == 0
    assert total.user_errors_failed_without_retry == total.user_error_tasks > 0
    assert total.interrupted_tasks_one_try == total.interrupted_tasks_clean > 0
    # The faults really happened, on both services.
    assert sum(total.worker_deaths.values()) >= 6
    assert all(figures.injected_errors > 0 for figures in report.by_backend.values())
    assert report.triggers["rebuilt"] > 0 and report.unauthorized > 0
