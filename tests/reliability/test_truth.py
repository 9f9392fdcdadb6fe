"""The campaign's truth: what the operator's contract says each scripted story must end as."""

from __future__ import annotations

import pytest

from tests.reliability.truth import BACKENDS, SHOWCASE, AttemptScript, Death, Fate, JobPlan, expect, make_plans


def plan(fates: tuple[Fate, ...], deaths: tuple[Death, ...] = ()) -> JobPlan:
    return JobPlan(
        index=0,
        backend="spark_operator",
        tenant="datalake",
        dag_id="d",
        task_id="t",
        map_index=-1,
        attempts=tuple(AttemptScript(fate, 1.0) for fate in fates),
        deaths=deaths,
    )


@pytest.mark.parametrize(
    ("fates", "deaths", "state", "tries", "creations", "interruptions"),
    [
        ((Fate.SUCCEED,), (), "success", 1, ((1, 1),), 0),
        ((Fate.SPOT, Fate.SUCCEED), (), "success", 1, ((1, 1), (1, 2)), 1),
        ((Fate.USER_ERROR,), (), "failed", 1, ((1, 1),), 0),
        # the run a dead worker left running is adopted by the retry, not submitted again
        ((Fate.SUCCEED,), (Death(1, "before_defer"),), "success", 2, ((1, 1),), 0),
        # a run that completed while its worker died is adopted too
        ((Fate.SUCCEED,), (Death(1, "complete_end"),), "success", 2, ((1, 1),), 0),
        # a failed run is not adopted: the retry submits its own
        ((Fate.USER_ERROR,), (Death(1, "complete_start"),), "failed", 2, ((1, 1), (2, 1)), 0),
        # a resubmission decided by a worker that died is not made: the retry starts at its attempt 1
        # (scripted like every attempt 1: interrupted), then resubmits its attempt 2
        ((Fate.SPOT, Fate.SUCCEED), (Death(1, "complete_end"),), "success", 2, ((1, 1), (2, 1), (2, 2)), 2),
    ],
)
def test_expect(
    fates: tuple[Fate, ...],
    deaths: tuple[Death, ...],
    state: str,
    tries: int,
    creations: tuple[tuple[int, int], ...],
    interruptions: int,
) -> None:
    truth = expect(plan(fates, deaths))
    assert (truth.state, truth.tries, truth.creations, truth.interruptions) == (state, tries, creations, interruptions)


def test_an_exhausted_budget_spends_airflow_retries_then_fails() -> None:
    truth = expect(plan((Fate.SPOT, Fate.NODE_LOST)))
    assert (truth.state, truth.reason, truth.tries, truth.retryable_failures) == ("failed", "exhausted", 3, 3)
    assert len(truth.creations) == 3 * 4  # each try: attempt 1 and three resubmissions


def test_plans_are_reproducible_and_open_with_the_showcase_on_each_backend() -> None:
    plans = make_plans(200, seed=5)
    assert plans == make_plans(200, seed=5)
    assert plans != make_plans(200, seed=6)
    showcase = plans[: len(BACKENDS) * len(SHOWCASE)]
    assert {(p.story, p.backend) for p in showcase} == {
        (story, backend) for story, *_ in SHOWCASE for backend in BACKENDS
    }
    assert {p.backend for p in make_plans(50, seed=5, backends=("emr_on_eks",))} == {"emr_on_eks"}
    assert len({p.key for p in plans}) == len(plans)
    assert any(p.map_index >= 0 for p in plans)
