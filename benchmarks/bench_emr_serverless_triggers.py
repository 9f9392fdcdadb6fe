"""1,000 concurrent EMR Serverless waits over 10 applications: the shared-sweep trigger against per-job GetJobRun.

Both workloads run at the same time against one moto server (its own process, so its CPU is not the
client's, with `tests/emr/moto_serverless.py`'s fidelity and ListJobRuns pages of 50, the service's
maximum), each on 10 applications of its own so that the server counts each one's calls apart:
- `shared sweep`: N `EmrServerlessJobRunTrigger`s in one event loop, as in one triggerer process: one
  ListJobRuns sweep per application per interval, GetJobRun for each run that ended;
- `baseline`: N waits that each call GetJobRun every interval until the run is terminal, which is what
  the amazon provider's `EmrServerlessStartJobTrigger` does (its `serverless_job_completed` waiter;
  here with one shared aiobotocore client, cheaper than the provider's client per trigger, so the
  baseline is, if anything, flattered), in a process of its own, as in another triggerer.

Each run goes RUNNING at a random time in `[5 s, --min-run]` and ends SUCCESS (one in ten FAILED, with
`stateDetails`) at a random time in `[--min-run, --max-run]`, the same schedule for both. Reported: API
calls by operation, the detection latency (event time minus the time the terminal state was set), and
the outcome each trigger event carried against the state that was set. Goal (issue 18): >= 25x fewer
calls than the baseline, with the worst detection delay reported.

"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_emr_triggers import (
    arguments,
    calls_by_cluster,
    finish_on_schedule,
    latency,
    moto_server,
    percentile,
)

TERMINAL = {"SUCCESS", "FAILED", "CANCELLED"}
OPERATIONS = ("ListJobRuns", "GetJobRun", "ListJobRunAttempts")
PAGE_SIZE = 50
"""ListJobRuns' `maxResults` is at most 50 in the service's model; moto pages by 100 unless told."""
USER_ERROR = "Job failed, please check complete logs. ExitCode: 1"


def serve(queue: Any) -> None:
    """The moto server process (emr-serverless as the service behaves): report the URL, then serve."""
    from moto.core.utils import get_pagination_model

    from tests.emr.faults import Faults
    from tests.emr.moto_emr import quiet_werkzeug
    from tests.emr.moto_serverless import ServerlessMoto

    get_pagination_model("emr-serverless")["ListJobRuns"]["limit_default"] = PAGE_SIZE
    quiet_werkzeug()
    server = ServerlessMoto(Faults())
    server.start()
    queue.put(server.url)
    while True:
        time.sleep(3600)


def serverless_change(run_id: str, state: str) -> dict[str, Any]:
    """The control route's body for one run: a FAILED run says why in `stateDetails`, as the service does."""
    return {"run_id": run_id, "state": state, "state_details": USER_ERROR if state == "FAILED" else None}


def start_runs(client: Any, applications: list[str], count: int, label: str) -> dict[str, str]:
    """`count` job runs spread evenly over `applications`; {job run id: application id}."""

    def one(index: int) -> tuple[str, str]:
        application = applications[index % len(applications)]
        started = client.start_job_run(
            applicationId=application,
            name=f"{label}-{index}",
            clientToken=f"{label}-{index}",
            executionRoleArn="arn:aws:iam::123456789012:role/emr-serverless-bench",
            jobDriver={"sparkSubmit": {"entryPoint": "s3://bench/job.py"}},
        )
        return str(started["jobRunId"]), application

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(one, range(count)))


async def shared_sweep_waits(
    runs: dict[str, str], interval: float, seen: dict[str, float], outcomes: dict[str, str]
) -> None:
    from airflow_eks_data.triggers.emr_serverless_job_run import EmrServerlessJobRunTrigger

    started_at = time.time() - 5

    async def one(run_id: str, application: str) -> None:
        trigger = EmrServerlessJobRunTrigger(application, run_id, started_at=started_at, poll_interval=interval)
        async for event in trigger.run():
            seen[run_id] = time.monotonic()
            evidence = event.payload.get("evidence") or {}
            outcomes[run_id] = str((evidence.get("job_run") or {}).get("state") or evidence.get("kind"))
            return

    await asyncio.gather(*(one(run_id, application) for run_id, application in runs.items()))


async def baseline_waits(
    runs: dict[str, str], interval: float, seen: dict[str, float], outcomes: dict[str, str]
) -> None:
    from airflow_eks_data.hooks.emr_serverless import AsyncEmrServerlessHook

    hook = AsyncEmrServerlessHook()
    async with hook.client() as client:

        async def one(run_id: str, application: str) -> None:
            while True:
                response = await client.get_job_run(applicationId=application, jobRunId=run_id)
                if response["jobRun"]["state"] in TERMINAL:
                    seen[run_id] = time.monotonic()
                    outcomes[run_id] = response["jobRun"]["state"]
                    return
                await asyncio.sleep(interval)

        await asyncio.gather(*(one(run_id, application) for run_id, application in runs.items()))


def baseline_process(env: dict[str, str], runs: dict[str, str], interval: float, out: Any) -> None:
    """The baseline in its own process, as it would be in its own triggerer (CLOCK_MONOTONIC is
    system-wide, so its timestamps compare with the main process's)."""
    os.environ.update(env)
    seen: dict[str, float] = {}
    outcomes: dict[str, str] = {}
    asyncio.run(baseline_waits(runs, interval, seen, outcomes))
    out.put((seen, outcomes))


def schedule_for(args: argparse.Namespace, runs: dict[str, dict[str, str]]) -> tuple[list[Any], dict[str, str]]:
    """The same schedule for both workloads: (at, run id, state) for RUNNING and the terminal state."""
    schedule, expected = [], {}
    for label in ("shared", "baseline"):
        for index, run_id in enumerate(runs[label]):
            rng = random.Random(args.seed + index)
            ends = rng.uniform(args.min_run, args.max_run)
            state = "FAILED" if index % 10 == 0 else "SUCCESS"
            schedule += [(rng.uniform(min(5.0, args.min_run), args.min_run), run_id, "RUNNING"), (ends, run_id, state)]
            expected[run_id] = state
    random.Random(args.seed).shuffle(schedule)
    return schedule, expected


async def run_both(args: argparse.Namespace, url: str, runs: dict[str, dict[str, str]]) -> Any:
    schedule, expected = schedule_for(args, runs)
    changed: dict[str, float] = {}
    seen: dict[str, dict[str, float]] = {"shared": {}, "baseline": {}}
    outcomes: dict[str, dict[str, str]] = {"shared": {}, "baseline": {}}
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    env = {k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW", "AWS"))}
    baseline = context.Process(target=baseline_process, args=(env, runs["baseline"], args.interval, out))
    if not args.alone:
        baseline.start()
        await asyncio.sleep(3.0)  # let the baseline process import and start polling
    # Imported before the clock starts: botocore's first import would stall the loop for seconds.
    import airflow_eks_data.hooks.emr_serverless
    import airflow_eks_data.triggers.emr_serverless_job_run  # noqa: F401

    began = time.monotonic()
    await asyncio.gather(
        finish_on_schedule(url, schedule, changed, serverless_change),
        shared_sweep_waits(runs["shared"], args.interval, seen["shared"], outcomes["shared"]),
    )
    if not args.alone:
        seen["baseline"], outcomes["baseline"] = await asyncio.to_thread(out.get)
        baseline.join()
    return seen, outcomes, expected, changed, began


def report(
    args: argparse.Namespace,
    applications: dict[str, list[str]],
    runs: dict[str, dict[str, str]],
    seen: dict[str, dict[str, float]],
    outcomes: dict[str, dict[str, str]],
    expected: dict[str, str],
    changed: dict[str, float],
    began_at: float,
    elapsed: float,
    calls: dict[tuple[str, str], int],
) -> None:
    print(
        f"\n{args.jobs} waits per workload over {args.applications} applications, interval {args.interval:g}s, "
        f"runs end at {args.min_run:g}-{args.max_run:g}s, wall {elapsed:.0f}s\n"
    )
    print(
        "| workload | ListJobRuns | GetJobRun | ListJobRunAttempts | total calls | detected | wrong outcome "
        "| latency p50 s | p99 s | max s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    totals = {}
    titles = (("shared", "shared sweep (EmrServerlessJobRunTrigger)"), ("baseline", "per-job GetJobRun"))
    for label, title in titles:
        if not seen[label]:
            continue
        mine = set(applications[label])
        counts = {op: sum(n for (app, o), n in calls.items() if app in mine and o == op) for op in OPERATIONS}
        totals[label] = sum(counts.values())
        wrong = sum(outcomes[label].get(run_id) != expected[run_id] for run_id in runs[label])
        lat = latency(seen[label], changed)
        print(
            f"| {title} | {counts['ListJobRuns']:,} | {counts['GetJobRun']:,} | {counts['ListJobRunAttempts']:,} | "
            f"{totals[label]:,} | {len(seen[label])}/{args.jobs} | {wrong} | {statistics.median(lat):.2f} | "
            f"{percentile(lat, 0.99):.2f} | {lat[-1]:.2f} |"
        )
    # What the baseline would call if it kept its interval (one GetJobRun per interval until it sees the
    # end): on a small machine it may not, and then it calls less, and detects later.
    ideal = sum(int((changed[r] - began_at) // args.interval) + 2 for r in runs["baseline"] if r in changed)
    shared = latency(seen["shared"], changed)
    if "baseline" in totals:
        ratio = totals["baseline"] / max(totals["shared"], 1)
        polls = totals["baseline"] / args.jobs
        print(f"\ncalls: {ratio:.1f}x fewer than the baseline as measured ({polls:.1f} polls per job; goal >= 25x)")
    print(
        f"calls: {ideal / max(totals['shared'], 1):.1f}x fewer than a baseline keeping its interval ({ideal:,} calls)"
    )
    print(f"shared-sweep detection: worst {shared[-1]:.2f}s, p99 {percentile(shared, 0.99):.2f}s")


def main() -> None:
    extra = {"--applications": {"type": int, "default": 10, "help": "applications per workload"}}
    args = arguments(__doc__, **extra)
    server, url, client = moto_server("emr-serverless", serve)
    try:
        applications: dict[str, list[str]] = {}
        for label in ("shared", "baseline"):
            applications[label] = []
            for index in range(args.applications):
                created = client.create_application(name=f"{label}-{index}", releaseLabel="emr-7.5.0", type="SPARK")
                client.start_application(applicationId=created["applicationId"])
                applications[label].append(str(created["applicationId"]))
        setup = time.monotonic()
        runs = {label: start_runs(client, applications[label], args.jobs, label) for label in applications}
        print(
            f"started {2 * args.jobs} job runs on {2 * args.applications} applications in "
            f"{time.monotonic() - setup:.1f}s; waiting ...",
            flush=True,
        )
        seen, outcomes, expected, changed, began_at = asyncio.run(run_both(args, url, runs))
        elapsed = time.monotonic() - began_at
        calls = calls_by_cluster(url)
    finally:
        server.terminate()
        server.join()

    report(args, applications, runs, seen, outcomes, expected, changed, began_at, elapsed, calls)


if __name__ == "__main__":
    main()
