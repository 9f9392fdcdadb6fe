"""The fault campaign: many task instances of the real `SparkOnEksOperator`, on each backend, through
every fault the plans and the chaos schedule inject, judged against the truth.

    report = run_campaign(CampaignConfig(jobs=1000, seed=7))
    assert not report.violations, report.violations

Everything runs in this process: the test API server and moto in their threads, a pool of worker
threads for `execute` / `execute_complete`, and one event loop for the triggerer and the task
lifecycles. Task instances start at once, up to `concurrency` at a time (Airflow's parallelism).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from airflow_eks_data.jobspec.profile import PlatformProfile
from tests.reliability.botodata import shared_loader_cache
from tests.reliability.chaos import Chaos, ChaosSettings
from tests.reliability.lifecycle import Lifecycle, OperatorSettings, TaskRecord
from tests.reliability.report import Report, judge
from tests.reliability.servers import Servers, start_servers
from tests.reliability.triggerer import Triggerer
from tests.reliability.truth import BACKENDS, JobPlan, Rates, make_plans

QUIET = {
    **dict.fromkeys(("airflow", "airflow.task", "airflow_eks_data", "kubernetes", "kubernetes_asyncio"), logging.ERROR),
    **dict.fromkeys(("botocore", "aiobotocore"), logging.ERROR),
    "aiohttp.server": logging.CRITICAL,  # the test API server, when a cut or cancelled client goes away mid-write
}


@dataclass(frozen=True)
class CampaignConfig:
    jobs: int = 60
    seed: int = 1
    concurrency: int = 150
    """Task instances running at once (deferred ones included), as Airflow's parallelism."""
    workers: int = 24
    """Worker slots for execute/execute_complete (threads)."""
    error_rate: float = 0.2
    """Share of requests to either API answered 429, 500 or 503."""
    speed: float = 20.0
    """Simulated seconds per real second in the Spark Operator simulation."""
    watch_cut_s: float = 2.0
    rates: Rates = field(default_factory=Rates)
    chaos: ChaosSettings = field(default_factory=ChaosSettings)
    task_timeout_s: float = 300.0
    """A task instance still going after this long is reported as stuck."""
    backends: tuple[str, ...] = BACKENDS
    emr_queue: dict[str, int] | None = None
    """Every virtual cluster's `schedulerConfiguration` (`maxConcurrentJobRuns`, `maxInQueueJobRuns`)."""


def run_campaign(config: CampaignConfig, workdir: Path | None = None) -> Report:
    plans = make_plans(config.jobs, config.seed, config.rates, config.backends)
    with tempfile.TemporaryDirectory(prefix="campaign-") as scratch, quiet_logs(), shared_loader_cache():
        root = workdir or Path(scratch)
        with start_servers(
            plans,
            root,
            seed=config.seed,
            error_rate=config.error_rate,
            speed=config.speed,
            watch_cut_s=config.watch_cut_s,
            emr_queue=config.emr_queue,
        ) as servers:
            began = time.monotonic()
            records, chaos, triggerer = asyncio.run(_campaign(config, plans, servers))
            wall = time.monotonic() - began
            return judge(config, plans, records, servers, chaos.counts, triggerer, wall)


async def _campaign(
    config: CampaignConfig, plans: list[JobPlan], servers: Servers
) -> tuple[list[TaskRecord | str], Chaos, Triggerer]:
    triggerer = Triggerer()
    chaos = Chaos(servers.kube, triggerer, config.chaos, config.seed)
    slots = asyncio.Semaphore(config.concurrency)
    with ThreadPoolExecutor(config.workers, thread_name_prefix="worker") as executor:
        settings = OperatorSettings(PlatformProfile.from_yaml(servers.profile_path))
        lifecycle = Lifecycle(triggerer, executor, settings, servers.still_running)

        async def one(plan: JobPlan) -> TaskRecord | str:
            async with slots:
                try:
                    return await asyncio.wait_for(lifecycle.run(plan), config.task_timeout_s)
                except TimeoutError:
                    return (
                        f"job {plan.index} ({plan.backend}, {plan.story}): still going after {config.task_timeout_s}s"
                    )

        chaos_task = asyncio.create_task(chaos.run())
        try:
            records = await asyncio.gather(*(one(plan) for plan in plans))
        finally:
            chaos_task.cancel()
            await asyncio.gather(chaos_task, return_exceptions=True)
    return list(records), chaos, triggerer


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Thousands of tasks log every retry; the campaign reports figures instead."""
    loggers = [logging.getLogger(name) for name in QUIET]
    levels = [logger.level for logger in loggers]
    structlog_config = structlog.get_config()
    for logger, level in zip(loggers, QUIET.values(), strict=True):
        logger.setLevel(level)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))  # task loggers
    try:
        yield
    finally:
        structlog.configure(**structlog_config)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
