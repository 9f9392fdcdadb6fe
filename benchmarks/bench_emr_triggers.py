"""1,000 concurrent EMR on EKS waits: the shared-poller trigger against per-job DescribeJobRun polling.

Both workloads run at the same time against one moto server (its own process, so its CPU is not the
client's), on two virtual clusters so that the server can count each one's calls apart:
- `shared poller`: N `EmrEksJobRunTrigger`s in one event loop, as in one triggerer process;
- `baseline`: N waits that each call DescribeJobRun every interval until the run is terminal, which is
  what the amazon provider's `EmrContainerTrigger` does (here with one shared aiobotocore client,
  which is cheaper than the provider's client per trigger, so the baseline is, if anything, flattered),
  in a process of its own, as in another triggerer.

Each run is moved to COMPLETED (one in ten to FAILED) at a random time in `[--min-run, --max-run]`,
the same schedule for both. Reported: API calls by operation, and the detection latency (event time
minus the time the state changed). Goal (issue 6): >= 25x fewer calls, detection <= interval + 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def serve(queue: Any) -> None:
    """The moto server process: report the URL, then serve until terminated."""
    from tests.emr.moto_emr import EmrMoto, quiet_werkzeug

    quiet_werkzeug()
    server = EmrMoto()
    server.start()
    queue.put(server.url)
    while True:
        time.sleep(3600)


def post(url: str, path: str, payload: Any) -> Any:
    data = json.dumps(payload).encode()
    request = urllib.request.Request(url + path, data=data, method="POST" if payload is not None else "GET")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def calls_by_cluster(url: str) -> dict[tuple[str, str], int]:
    with urllib.request.urlopen(url + "/_emr_test/calls", timeout=60) as response:
        rows = json.loads(response.read())["by_cluster"]
    return {(vc, op): n for vc, op, n in rows}


def start_runs(client: Any, vc: str, count: int, label: str) -> list[str]:
    def one(index: int) -> str:
        return str(
            client.start_job_run(
                name=f"{label}-{index}",
                virtualClusterId=vc,
                clientToken=f"{label}-{index}",
                executionRoleArn="arn:aws:iam::123456789012:role/emr-bench",
                releaseLabel="emr-7.5.0-latest",
                jobDriver={"sparkSubmitJobDriver": {"entryPoint": "s3://bench/job.py"}},
            )["id"]
        )

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def emr_on_eks_change(run_id: str, state: str) -> dict[str, Any]:
    """The control route's body for one run: EMR on EKS's FAILED carries a `failureReason`."""
    return {"run_id": run_id, "state": state, "failure_reason": "USER_ERROR" if state == "FAILED" else None}


async def finish_on_schedule(
    url: str,
    schedule: list[tuple[float, str, str]],
    changed: dict[str, float],
    change: Callable[[str, str], dict[str, Any]] = emr_on_eks_change,
) -> None:
    """Apply state changes when due (in batches every 0.1 s); record when each became visible."""
    begin = time.monotonic()
    pending = sorted(schedule)
    while pending:
        now = time.monotonic() - begin
        due = [item for item in pending if item[0] <= now]
        pending = pending[len(due) :]
        if due:
            changes = [change(run_id, state) for _, run_id, state in due]
            await asyncio.to_thread(post, url, "/_emr_test/state", changes)
            stamp = time.monotonic()
            for _, run_id, _ in due:
                changed[run_id] = stamp
        await asyncio.sleep(0.1)


async def shared_poller_waits(vc: str, run_ids: list[str], interval: float, seen: dict[str, float]) -> None:
    from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger

    started_at = time.time() - 5

    async def one(run_id: str) -> None:
        async for _ in EmrEksJobRunTrigger(vc, run_id, started_at=started_at, poll_interval=interval).run():
            seen[run_id] = time.monotonic()
            return

    await asyncio.gather(*(one(run_id) for run_id in run_ids))


async def baseline_waits(vc: str, run_ids: list[str], interval: float, seen: dict[str, float]) -> None:
    from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook

    hook = AsyncEmrEksHook()
    async with hook.client() as client:

        async def one(run_id: str) -> None:
            while True:
                response = await client.describe_job_run(virtualClusterId=vc, id=run_id)
                if response["jobRun"]["state"] in TERMINAL:
                    seen[run_id] = time.monotonic()
                    return
                await asyncio.sleep(interval)

        await asyncio.gather(*(one(run_id) for run_id in run_ids))


def baseline_process(env: dict[str, str], vc: str, run_ids: list[str], interval: float, out: Any) -> None:
    """The baseline in its own process, as it would be in its own triggerer: its CPU does not stall
    the shared poller's event loop (CLOCK_MONOTONIC is system-wide, so timestamps compare)."""
    os.environ.update(env)
    seen: dict[str, float] = {}
    asyncio.run(baseline_waits(vc, run_ids, interval, seen))
    out.put(seen)


def latency(seen: dict[str, float], changed: dict[str, float]) -> list[float]:
    return sorted(max(seen[r] - changed[r], 0.0) for r in seen)


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


async def run_both(args: argparse.Namespace, url: str, clusters: dict[str, str], runs: dict[str, list[str]]) -> Any:
    rng = random.Random(args.seed)
    schedule = []
    for label in ("shared", "baseline"):
        for index, run_id in enumerate(runs[label]):
            at = random.Random(args.seed + index).uniform(args.min_run, args.max_run)
            state = "FAILED" if index % 10 == 0 else "COMPLETED"
            schedule.append((at, run_id, state))
    rng.shuffle(schedule)
    changed: dict[str, float] = {}
    seen: dict[str, dict[str, float]] = {"shared": {}, "baseline": {}}
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    env = {k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW", "AWS"))}
    baseline = context.Process(
        target=baseline_process, args=(env, clusters["baseline"], runs["baseline"], args.interval, out)
    )
    if not args.alone:
        baseline.start()
        await asyncio.sleep(3.0)  # let the baseline process import and start polling
    began = time.monotonic()
    await asyncio.gather(
        finish_on_schedule(url, schedule, changed),
        shared_poller_waits(clusters["shared"], runs["shared"], args.interval, seen["shared"]),
    )
    if not args.alone:
        seen["baseline"] = await asyncio.to_thread(out.get)
        baseline.join()
    return seen, changed, began


def arguments(description: str | None, **extra: dict[str, Any]) -> argparse.Namespace:
    """The options both EMR trigger benchmarks take (`extra`: more, as `add_argument` keywords by flag)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000, help="concurrent waits per workload")
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, seconds (both workloads)")
    parser.add_argument("--min-run", type=float, default=60.0, help="earliest a run ends, seconds")
    parser.add_argument("--max-run", type=float, default=150.0, help="latest a run ends, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--alone", action="store_true", help="run the shared waits without the baseline's load")
    for flag, options in extra.items():
        parser.add_argument(flag, **options)
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-emr-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    return args


def moto_server(service: str, target: Any = serve) -> tuple[Any, str, Any]:
    """The moto server `target` runs in its own process, its URL (also as Airflow's `aws_default`), and
    a boto3 client of `service` on it. Terminate the process when done."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    server = context.Process(target=target, args=(queue,), daemon=True)
    server.start()
    url = queue.get(timeout=60)
    extra = {"endpoint_url": url, "region_name": "eu-west-1"}
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
        {"conn_type": "aws", "login": "bench", "password": "bench", "extra": extra}
    )
    import boto3  # type: ignore[import-untyped]

    client = boto3.client(
        service, endpoint_url=url, region_name="eu-west-1", aws_access_key_id="b", aws_secret_access_key="b"
    )
    return server, url, client


def main() -> None:
    args = arguments(__doc__)
    server, url, client = moto_server("emr-containers")
    try:
        clusters = {
            label: client.create_virtual_cluster(
                name=label, containerProvider={"id": "eks", "type": "EKS", "info": {"eksInfo": {"namespace": label}}}
            )["id"]
            for label in ("shared", "baseline")
        }
        setup = time.monotonic()
        runs = {label: start_runs(client, clusters[label], args.jobs, label) for label in clusters}
        print(f"started {2 * args.jobs} job runs in {time.monotonic() - setup:.1f}s; waiting ...", flush=True)
        seen, changed, began_at = asyncio.run(run_both(args, url, clusters, runs))
        elapsed = time.monotonic() - began_at
        calls = calls_by_cluster(url)
    finally:
        server.terminate()
        server.join()

    print(
        f"\n{args.jobs} waits per workload, interval {args.interval:g}s, runs end at "
        f"{args.min_run:g}-{args.max_run:g}s, wall {elapsed:.0f}s\n"
    )
    print("| workload | ListJobRuns | DescribeJobRun | total calls | detected | latency p50 s | p95 s | max s |")
    print("|---|---|---|---|---|---|---|---|")
    totals = {}
    for label, title in (("shared", "shared poller (EmrEksJobRunTrigger)"), ("baseline", "per-job DescribeJobRun")):
        if not seen[label]:
            continue
        vc = clusters[label]
        lists, describes = calls.get((vc, "ListJobRuns"), 0), calls.get((vc, "DescribeJobRun"), 0)
        totals[label] = lists + describes
        lat = latency(seen[label], changed)
        print(
            f"| {title} | {lists} | {describes} | {totals[label]} | {len(seen[label])}/{args.jobs} | "
            f"{statistics.median(lat):.2f} | {percentile(lat, 0.95):.2f} | {lat[-1]:.2f} |"
        )
    # What the baseline would call if it kept its interval (one DescribeJobRun per interval until it
    # sees the end): on a small machine it cannot, and then it calls less, and detects later.
    ideal = sum(int((changed[r] - began_at) // args.interval) + 2 for r in runs["baseline"] if r in changed)
    worst = latency(seen["shared"], changed)[-1]
    if "baseline" in totals:
        ratio = totals["baseline"] / max(totals["shared"], 1)
        polls = totals["baseline"] / args.jobs
        print(f"\ncalls: {ratio:.1f}x fewer than the baseline as measured ({polls:.1f} polls per job; goal >= 25x)")
    print(f"calls: {ideal / max(totals['shared'], 1):.1f}x fewer than a baseline keeping its interval ({ideal} calls)")
    print(f"shared-poller worst detection {worst:.2f}s (goal <= {args.interval + 1:g}s)")


if __name__ == "__main__":
    main()
