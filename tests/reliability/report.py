"""Judge a campaign against its truth, and put the figures in a table.

Violations (each must be zero): a (task, try, attempt) submitted more than once, or submitted when
the truth says it must not be (or not when it must); a run still going when its task ended, or at the
end of the campaign; a task whose final state or number of tries differs from the truth; an attempt
classified other than its scripted fate; a task still going at the deadline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.reliability.lifecycle import TaskRecord, TryEnd
from tests.reliability.servers import Created, Servers
from tests.reliability.triggerer import Triggerer
from tests.reliability.truth import Expected, JobPlan, expect

if TYPE_CHECKING:
    from tests.reliability.harness import CampaignConfig


@dataclass
class Figures:
    """What one backend (or all of them) did."""

    jobs: int = 0
    succeeded: int = 0
    failed: int = 0
    tries: int = 0
    submissions: int = 0
    duplicate_submissions: int = 0
    unexpected_submissions: int = 0
    missing_submissions: int = 0
    left_running: int = 0
    state_disagrees: int = 0
    tries_disagree: int = 0
    verdicts: int = 0
    verdicts_disagree: int = 0
    interrupted_attempts: int = 0
    interrupted_tasks_one_try: int = 0
    """Tasks with an interruption and no worker death that finished in try 1."""
    interrupted_tasks_clean: int = 0
    retries_spent_on_interruptions: int = 0
    user_error_tasks: int = 0
    user_errors_failed_without_retry: int = 0
    budget_exhausted_tasks: int = 0
    pending_capacity_attempts: int = 0
    queued_for_a_slot: int = 0
    """Runs that waited in an EMR virtual cluster's queue for a free slot."""
    queue_full_refusals: int = 0
    """StartJobRun calls refused because the virtual cluster's queue was full."""
    worker_deaths: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    injected_errors: int = 0
    task_seconds: list[float] = field(default_factory=list)

    @property
    def requests_per_job(self) -> float:
        return self.requests / self.jobs if self.jobs else 0.0


@dataclass
class Report:
    seed: int
    wall_seconds: float
    by_backend: dict[str, Figures]
    total: Figures
    chaos: dict[str, int]
    triggers: dict[str, int]
    requests: dict[str, dict[str, int]]
    """Per service, requests by verb/resource or operation."""
    unauthorized: int
    violations: list[str]
    config: dict[str, Any]

    @property
    def columns(self) -> list[str]:
        return [*self.by_backend, "total"]

    def rows(self) -> list[tuple[str, ...]]:
        """(figure, one value per backend, total)."""
        parts = [*self.by_backend.values(), self.total]

        def row(label: str, value: Any) -> tuple[str, ...]:
            return (label, *(_fmt(value(f)) for f in parts))

        return [
            row("jobs (task instances)", lambda f: f.jobs),
            row("succeeded / failed", lambda f: f"{f.succeeded} / {f.failed}"),
            row("Airflow tries", lambda f: f.tries),
            row("runs submitted", lambda f: f.submissions),
            row("submitted twice for one (task, try, attempt)", lambda f: f.duplicate_submissions),
            row(
                "submitted against the truth (extra / missing)",
                lambda f: f"{f.unexpected_submissions} / {f.missing_submissions}",
            ),
            row("runs left running after their task ended", lambda f: f.left_running),
            row("final state differs from the truth", lambda f: f.state_disagrees),
            row("tries differ from the truth", lambda f: f.tries_disagree),
            row(
                "attempts classified / differing from the script", lambda f: f"{f.verdicts:,} / {f.verdicts_disagree:,}"
            ),
            row("interrupted attempts (spot, node lost)", lambda f: f.interrupted_attempts),
            row(
                "tasks interrupted, no worker death: done in try 1",
                lambda f: f"{f.interrupted_tasks_one_try} of {f.interrupted_tasks_clean}",
            ),
            row("Airflow retries spent on interruptions in budget", lambda f: f.retries_spent_on_interruptions),
            row(
                "user errors failed without retry",
                lambda f: f"{f.user_errors_failed_without_retry} of {f.user_error_tasks}",
            ),
            row("interruption budget exhausted (retried by Airflow)", lambda f: f.budget_exhausted_tasks),
            row("attempts delayed by pending capacity", lambda f: f.pending_capacity_attempts),
            row(
                "runs queued for a slot / StartJobRun refused, queue full",
                lambda f: f"{f.queued_for_a_slot} / {f.queue_full_refusals}",
            ),
            row(
                "worker deaths (before defer / complete start / end)",
                lambda f: "{} / {} / {}".format(
                    f.worker_deaths["before_defer"], f.worker_deaths["complete_start"], f.worker_deaths["complete_end"]
                ),
            ),
            row("API requests", lambda f: f.requests),
            row("API requests per job", lambda f: f"{f.requests_per_job:.1f}"),
            row("of which answered 429/500/503", lambda f: f.injected_errors),
            row("task duration p50 / max (s)", lambda f: _durations(f.task_seconds)),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "wall_seconds": round(self.wall_seconds, 1),
            "figures": {label: dict(zip(self.columns, values, strict=True)) for label, *values in self.rows()},
            "counts": {
                part: {name: value for name, value in vars(figures).items() if not isinstance(value, list)}
                for part, figures in (*self.by_backend.items(), ("total", self.total))
            },
            "chaos": self.chaos,
            "triggers": self.triggers,
            "requests": self.requests,
            "unauthorized": self.unauthorized,
            "violations": self.violations,
        }

    def table(self) -> str:
        lines = [f"| figure | {' | '.join(self.columns)} |", "|---|" + "---:|" * len(self.columns)]
        lines += [f"| {' | '.join(row)} |" for row in self.rows()]
        return "\n".join(lines)

    def events_table(self) -> str:
        chaos, triggers = self.chaos, self.triggers
        rows = [
            (
                "triggerer restarts (triggers torn down and rebuilt from serialize())",
                f"{chaos.get('triggerer_restart', 0)} ({triggers['rebuilt']} rebuilt)",
            ),
            ("token expiries (requests answered 401)", f"{chaos.get('token_expiry', 0)} ({self.unauthorized})"),
            (
                "etcd compactions / 410 bursts on re-watch",
                f"{chaos.get('compaction', 0)} / {chaos.get('gone_burst', 0)}",
            ),
            (
                "watch requests / SparkApplication lists",
                f"{_get(self.requests, 'kube', 'watch sparkapplications')}"
                f" / {_get(self.requests, 'kube', 'list sparkapplications')}",
            ),
            ("trigger events / trigger failures", f"{triggers['fired']} / {triggers['failed']}"),
            ("wall time of the campaign (s)", f"{self.wall_seconds:.1f}"),
        ]
        lines = ["| event | count |", "|---|---:|"] + [f"| {label} | {value} |" for label, value in rows]
        return "\n".join(lines)


def _get(requests: Mapping[str, Mapping[str, int]], service: str, key: str) -> int:
    return requests.get(service, {}).get(key, 0)


def _fmt(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _durations(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    ordered = sorted(seconds)
    return f"{ordered[len(ordered) // 2]:.1f} / {ordered[-1]:.1f}"


def judge(
    config: CampaignConfig,
    plans: list[JobPlan],
    outcomes: list[TaskRecord | str],
    servers: Servers,
    chaos: Mapping[str, int],
    triggerer: Triggerer,
    wall: float,
) -> Report:
    violations = [o for o in outcomes if isinstance(o, str)]
    records = [o for o in outcomes if isinstance(o, TaskRecord)]
    truths = {plan.index: expect(plan) for plan in plans}
    created = [*servers.ledger.created, *servers.aws_created()]
    by_key: dict[str, list[Created]] = {}
    for run in created:
        by_key.setdefault(run.key, []).append(run)
    keys = {plan.key for plan in plans}
    violations += [
        f"run {run.name} does not belong to any task of the campaign" for run in created if run.key not in keys
    ]
    violations += [f"run {name} still running at the end of the campaign" for name in servers.all_running()]
    violations += [f"{name} player stopped: {p.error}" for name, p in servers.players.items() if p.error]
    by_backend = {backend: Figures() for backend in config.backends}
    for record in records:
        truth = truths[record.plan.index]
        figures = by_backend[record.plan.backend]
        violations += _judge_task(record, truth, by_key.get(record.plan.key, []), figures)
    kube, emr = servers.kube, servers.emr
    kube_requests = {f"{verb} {resource}": n for (verb, resource), n in kube.counters.snapshot().items()}
    emr_requests = dict(emr.faults.calls)
    signed = emr.faults.by_service
    services = {"spark_operator": None, "emr_on_eks": ("emr-containers", "s3"), "emr_serverless": ("emr-serverless",)}
    for backend, figures in by_backend.items():
        names = services[backend]
        if names is None:
            figures.requests = sum(kube_requests.values())
            figures.injected_errors = sum(servers.kube_faults.injected.values())
        else:
            figures.requests = sum(signed[name, "calls"] for name in names)
            figures.injected_errors = sum(signed[name, "injected"] for name in names)
    if "emr_on_eks" in by_backend:
        by_backend["emr_on_eks"].queued_for_a_slot = servers.players["emr_on_eks"].queued
        by_backend["emr_on_eks"].queue_full_refusals = emr.queue_refusals
    return Report(
        seed=config.seed,
        wall_seconds=wall,
        by_backend=by_backend,
        total=_sum(by_backend.values()),
        chaos=dict(chaos),
        triggers={"rebuilt": triggerer.rebuilt, "fired": triggerer.fired, "failed": triggerer.failed},
        requests={"kube": kube_requests, "emr": emr_requests},
        unauthorized=kube.tokens.rejected,
        violations=violations,
        config={
            "jobs": config.jobs,
            "seed": config.seed,
            "error_rate": config.error_rate,
            "speed": config.speed,
            "backends": list(config.backends),
            "emr_queue": config.emr_queue,
        },
    )


def _judge_task(record: TaskRecord, truth: Expected, created: list[Created], figures: Figures) -> list[str]:
    plan = record.plan
    who = f"job {plan.index} ({plan.backend}, {plan.story}, key {plan.key})"
    problems: list[str] = []
    figures.jobs += 1
    figures.succeeded += record.state == "success"
    figures.failed += record.state != "success"
    figures.tries += len(record.tries)
    figures.task_seconds.append(record.seconds)
    figures.submissions += len(created)
    # Submissions: each (try, attempt) once, and exactly those the truth calls for.
    seen = Counter((run.try_number, run.attempt) for run in created)
    wanted = Counter(truth.creations)
    twice = {pair: n for pair, n in seen.items() if n > 1}
    figures.duplicate_submissions += sum(n - 1 for n in twice.values())
    extra, missing = seen - wanted, wanted - seen
    figures.unexpected_submissions += sum((extra - Counter(twice)).values())
    figures.missing_submissions += sum(missing.values())
    if twice or extra or missing:
        tries = [f"{end.how}{' (' + end.detail + ')' if end.detail else ''}" for end in record.tries]
        problems.append(
            f"{who}: (try, attempt) submitted twice {sorted(twice)}, not in the truth {sorted(extra)}, "
            f"missing {sorted(missing)}; tries: {tries}"
        )
    figures.left_running += len(record.still_running)
    unexpected = [end for end in record.tries if end.how in ("retry", "failed") and not _scripted(end, truth)]
    if unexpected:
        problems.append(f"{who}: tries ended by an error the script does not explain: {[e.detail for e in unexpected]}")
    if record.still_running:
        problems.append(f"{who}: {record.still_running} still running when the task ended")
    # The task's end.
    hows = [f"{end.how}{' (' + end.detail + ')' if end.detail else ''}" for end in record.tries]
    if record.state != truth.state:
        figures.state_disagrees += 1
        problems.append(f"{who}: ended {record.state}, truth {truth.state} ({truth.reason}); tries: {hows}")
    if len(record.tries) != truth.tries:
        figures.tries_disagree += 1
        problems.append(f"{who}: {len(record.tries)} tries, truth {truth.tries}; tries: {hows}")
    # Each finished wait, classified as scripted.
    names = {run.name: run.attempt for run in created}
    for verdict in record.verdicts:
        figures.verdicts += 1
        attempt = names.get(verdict.name)
        scripted = plan.script(attempt).fate.outcome if attempt else "unknown"
        figures.interrupted_attempts += verdict.outcome == "interrupted"
        if verdict.outcome != scripted:
            figures.verdicts_disagree += 1
            problems.append(
                f"{who}: {verdict.name} classified {verdict.outcome} ({verdict.reason}), scripted {scripted}"
            )
    for run in created:
        figures.pending_capacity_attempts += plan.script(run.attempt).pending_s > 0
    # Airflow retries: never for interruptions inside the budget, never after a user error.
    deaths = [end for end in record.tries if end.how == "died"]
    for end in deaths:
        figures.worker_deaths[end.detail.split(" ")[0]] += 1
    retried = sum(end.how == "retry" for end in record.tries)
    figures.retries_spent_on_interruptions += max(retried - truth.retryable_failures, 0)
    if truth.interruptions and not plan.deaths and truth.reason == "succeeded":
        figures.interrupted_tasks_clean += 1
        figures.interrupted_tasks_one_try += len(record.tries) == 1
    if truth.reason == "user_error":
        figures.user_error_tasks += 1
        figures.user_errors_failed_without_retry += bool(record.tries) and record.tries[-1].how == "failed"
    figures.budget_exhausted_tasks += truth.reason == "exhausted"
    return problems


def _sum(parts: Iterable[Figures]) -> Figures:
    total = Figures()
    for part in parts:
        for name, value in vars(part).items():
            current = getattr(total, name)
            if isinstance(value, Counter):
                current.update(value)
            elif isinstance(value, list):
                current.extend(value)
            else:
                setattr(total, name, current + value)
    return total


def _scripted(end: TryEnd, truth: Expected) -> bool:
    """Whether a failed try is one the truth calls for: a user error, or a spent interruption budget."""
    return "interrupt" in end.detail or (truth.no_retry_failure and end.how == "failed")
