"""The campaign's script and its truth: what each job's attempts do, and what must follow.

Pure (no I/O, no Airflow): one seed gives every job its backend, tenant, place in a DAG, the fate of
each of its attempts and the worker deaths it suffers; `expect` then plays the operator's contract
(adopt what still runs or succeeded, resubmit interruptions inside the budget without spending
Airflow retries, fail user errors without retry) to say how the task must end and which
(try, attempt) pairs must each be submitted exactly once. The harness compares the real run with it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from airflow_eks_data.jobspec.names import attempt_name, task_key

BACKENDS = ("spark_operator", "emr_on_eks", "emr_serverless")
TENANTS = ("datalake", "analytics")
BUDGET = 3
"""Interruption resubmissions per Airflow try (the operator's `interruption_retries`)."""
RETRIES = 2
"""Airflow retries of every task: enough to absorb one worker death."""
RUN_ID = "scheduled__2026-11-23T10:00:00+00:00"


class Fate(str, Enum):
    """How one submitted attempt ends, whatever the API faults on the way."""

    SUCCEED = "succeed"
    SPOT = "spot"
    NODE_LOST = "node_lost"
    USER_ERROR = "user_error"

    @property
    def outcome(self) -> str:
        """The classification the operator must reach (`airflow_eks_data.outcomes.Outcome` values)."""
        return {Fate.SUCCEED: "succeeded", Fate.USER_ERROR: "failed"}.get(self, "interrupted")


@dataclass(frozen=True)
class AttemptScript:
    fate: Fate
    run_s: float
    """Real seconds the driver runs before it ends."""
    pending_s: float = 0.0
    """Real seconds without capacity (FailedScheduling / PENDING) before the driver starts."""


Phase = Literal["before_defer", "complete_start", "complete_end"]


@dataclass(frozen=True)
class Death:
    """The worker dies in try `try_number`, the `nth` time it reaches `phase`: after submitting
    and before the deferral reaches the triggerer, or when `execute_complete` starts or ends."""

    try_number: int
    phase: Phase
    nth: int = 1


@dataclass(frozen=True)
class JobPlan:
    index: int
    backend: str
    tenant: str
    dag_id: str
    task_id: str
    map_index: int
    attempts: tuple[AttemptScript, ...]
    """The fate of attempt n is `attempts[n - 1]`; the last one repeats."""
    deaths: tuple[Death, ...] = ()
    run_id: str = RUN_ID
    retries: int = RETRIES
    budget: int = BUDGET
    story: str = "random"

    @property
    def key(self) -> str:
        return task_key(self.dag_id, self.task_id, self.run_id, self.map_index)

    @property
    def job_name(self) -> str:
        return self.task_id

    def script(self, attempt: int) -> AttemptScript:
        return self.attempts[min(attempt, len(self.attempts)) - 1]

    def run_name(self, try_number: int, attempt: int) -> str:
        return attempt_name(self.job_name, self.key, try_number, attempt)

    def death(self, try_number: int, phase: Phase, nth: int) -> bool:
        return Death(try_number, phase, nth) in self.deaths


@dataclass(frozen=True)
class Rates:
    """Shares of attempts (fates) and of jobs (the rest) that the seed draws."""

    spot: float = 0.03
    node_lost: float = 0.02
    user_error: float = 0.02
    pending_capacity: float = 0.05
    exhausted: float = 0.004
    death_before_defer: float = 0.04
    death_in_complete: float = 0.04
    run_s: tuple[float, float] = (0.3, 3.0)
    pending_s: tuple[float, float] = (0.5, 3.0)


@dataclass(frozen=True)
class Expected:
    state: Literal["success", "failed"]
    reason: Literal["succeeded", "user_error", "exhausted", "worker_died"]
    tries: int
    creations: tuple[tuple[int, int], ...]
    """(try, attempt) of every run the operator must submit, each exactly once."""
    interruptions: int
    """Interrupted attempts the operator must see and resubmit (inside the budget)."""
    no_retry_failure: bool = False
    """The task ends by a failure that Airflow must not retry (a user error)."""
    retryable_failures: int = 0
    """Tries that end by a failure Airflow may retry (budget exhausted)."""


def expect(plan: JobPlan) -> Expected:
    """Play the operator's contract over the plan: the truth the campaign is judged against."""
    creations: list[tuple[int, int]] = []
    live: tuple[int, int] | None = None  # a run left running by a dead worker
    completed: tuple[int, int] | None = None  # a run that COMPLETED but whose task did not record it
    interruptions = retryable = 0
    try_number = 1
    while True:
        defers = completes = 0
        resubmits_left = plan.budget
        adopted = live or completed
        run = adopted or (try_number, 1)
        if adopted is None:
            creations.append(run)
        ended = "died"
        while True:
            defers += 1
            if plan.death(try_number, "before_defer", defers):
                live = run
                break
            live = None
            fate = plan.script(run[1]).fate
            completed = run if fate is Fate.SUCCEED else completed
            completes += 1
            if plan.death(try_number, "complete_start", completes):
                break
            dies = plan.death(try_number, "complete_end", completes)
            if fate is Fate.SUCCEED:
                ended = "died" if dies else "success"
                break
            if fate is Fate.USER_ERROR:
                ended = "died" if dies else "user_error"
                break
            interruptions += 1
            if resubmits_left == 0:
                retryable += 1
                ended = "died" if dies else "exhausted"
                break
            resubmits_left -= 1
            if dies:
                break
            run = (try_number, run[1] + 1)
            creations.append(run)
        if ended == "success":
            return Expected("success", "succeeded", try_number, tuple(creations), interruptions, False, retryable)
        if ended == "user_error":
            return Expected("failed", "user_error", try_number, tuple(creations), interruptions, True, retryable)
        if try_number > plan.retries:
            reason: Literal["exhausted", "worker_died"] = "exhausted" if ended == "exhausted" else "worker_died"
            return Expected("failed", reason, try_number, tuple(creations), interruptions, False, retryable)
        try_number += 1


# -- the seed's draws -------------------------------------------------------------------------------

SHOWCASE: tuple[tuple[str, tuple[Fate, ...], tuple[Death, ...], bool], ...] = (
    ("spot, then success", (Fate.SPOT, Fate.SUCCEED), (), False),
    ("node lost, then success", (Fate.NODE_LOST, Fate.SUCCEED), (), False),
    ("user error", (Fate.USER_ERROR,), (), False),
    ("pending capacity, then success", (Fate.SUCCEED,), (), True),
    ("every attempt interrupted", (Fate.SPOT, Fate.NODE_LOST), (), False),
    ("worker dies before defer", (Fate.SUCCEED,), (Death(1, "before_defer"),), False),
    ("worker dies before defer of a resubmission", (Fate.SPOT, Fate.SUCCEED), (Death(1, "before_defer", 2),), False),
    ("worker dies as execute_complete starts", (Fate.SUCCEED,), (Death(1, "complete_start"),), False),
    ("worker dies as execute_complete ends", (Fate.SUCCEED,), (Death(1, "complete_end"),), False),
    ("worker dies deciding a resubmission", (Fate.SPOT, Fate.SUCCEED), (Death(1, "complete_end"),), False),
    ("worker dies deciding a user error", (Fate.USER_ERROR,), (Death(1, "complete_start"),), False),
)
"""Stories every campaign tells on each backend first, so that a small one still covers each kind."""


def make_plans(jobs: int, seed: int, rates: Rates | None = None, backends: tuple[str, ...] = BACKENDS) -> list[JobPlan]:
    """`jobs` plans from `seed`: the showcase on each of `backends`, then random draws. Jobs come in
    DAGs of up to 40 tasks; about a third are mapped tasks of 2-6 instances (map_index 0..n-1)."""
    rates = rates or Rates()
    rng = random.Random(seed)
    plans: list[JobPlan] = []
    dag, task_in_dag = 0, 0
    showcase = [(backend, story) for story in SHOWCASE for backend in backends]
    while len(plans) < jobs:
        if task_in_dag >= 40:
            dag, task_in_dag = dag + 1, 0
        task_in_dag += 1
        instances = rng.randint(2, 6) if rng.random() < 1 / 3 else 1
        backend, tenant = rng.choice(backends), rng.choice(TENANTS)
        for map_index in range(instances if instances > 1 else 1):
            if len(plans) >= jobs:
                break
            index = len(plans)
            if index < len(showcase):
                backend, (story, fates, deaths, pending) = showcase[index]
                attempts = tuple(_script(rng, rates, fate, pending) for fate in fates)
            else:
                attempts = _attempts(rng, rates)
                story, deaths = "random", _deaths(rng, rates, attempts[0].fate)
            plans.append(
                JobPlan(
                    index=index,
                    backend=backend,
                    tenant=tenant,
                    dag_id=f"campaign_{dag:03d}",
                    task_id=f"compact-t{task_in_dag:02d}",
                    map_index=map_index if instances > 1 else -1,
                    attempts=attempts,
                    deaths=deaths,
                    story=story,
                )
            )
    return plans


def _script(rng: random.Random, rates: Rates, fate: Fate, pending: bool) -> AttemptScript:
    return AttemptScript(
        fate, round(rng.uniform(*rates.run_s), 2), round(rng.uniform(*rates.pending_s), 2) if pending else 0.0
    )


def _attempts(rng: random.Random, rates: Rates) -> tuple[AttemptScript, ...]:
    if rng.random() < rates.exhausted:
        return tuple(_script(rng, rates, rng.choice((Fate.SPOT, Fate.NODE_LOST)), False) for _ in range(2))
    scripts = []
    for _ in range(2 * (BUDGET + 1)):
        draw = rng.random()
        fate = Fate.SUCCEED
        for candidate, share in ((Fate.SPOT, rates.spot), (Fate.NODE_LOST, rates.node_lost)):
            if draw < share:
                fate = candidate
                break
            draw -= share
        else:
            if draw < rates.user_error:
                fate = Fate.USER_ERROR
        scripts.append(_script(rng, rates, fate, rng.random() < rates.pending_capacity))
    return tuple(scripts)


def _deaths(rng: random.Random, rates: Rates, first: Fate) -> tuple[Death, ...]:
    """At most one death, in the first try. A worker dies before deferring only on a run that
    succeeds: a run left behind that fails could end before or after the next try looks for it,
    and the truth would depend on timing."""
    draw = rng.random()
    if draw < rates.death_before_defer:
        return (Death(1, "before_defer"),) if first is Fate.SUCCEED else ()
    if draw < rates.death_before_defer + rates.death_in_complete:
        return (Death(1, rng.choice(("complete_start", "complete_end"))),)
    return ()
