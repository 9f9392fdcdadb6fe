"""10,000 concurrent EMR on EKS waits over 10 virtual clusters: the shared poller against per-job DescribeJobRun.

Both workloads run in one invocation against one moto server (its own process, so its CPU is not the
client's), each on virtual clusters of its own so that the server counts each one's calls apart:
- `shared poller`: `--waits` `EmrEksJobRunTrigger`s spread over `--clusters` virtual clusters in one
  event loop, as in one triggerer process;
- `baseline`: `--baseline-waits` waits that each call DescribeJobRun every interval until the run is
  terminal, which is what the amazon provider's `EmrContainerTrigger` does (here with one shared
  aiobotocore client, cheaper than the provider's client per trigger, so the baseline is, if anything,
  flattered), in a process of its own, as in another triggerer. At 10,000 per-job pollers the 2-core
  machine (and moto) could not keep the interval, so by default the baseline runs 1,000 waits and its
  calls are scaled per wait; the output says so.

Each run is moved to COMPLETED (one in ten to FAILED) at a random time in `[--min-run, --max-run]`,
the same schedule for both. `--throttle F` answers that fraction of every call (both workloads) with a
429 ThrottlingException between `--storm-from` and `--storm-to` seconds (the server's fault layer,
`tests/emr/faults.py`); botocore's own retries stay on, as in a default Airflow connection. Reported:
API calls by operation (throttled calls included: the server answered them), detection latency (event
time minus the time the state changed), lost results (not detected `--grace` seconds after the last
change) and late ones (detected more than two intervals after the change). Goals (issue 20): >= 50x
fewer calls than one DescribeJobRun per job per interval, worst detection <= interval + 1 s, and under
a 20 % throttling storm no lost result and none late beyond two intervals.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from dataclasses import dataclass
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


def start_runs(client: Any, clusters: list[str], count: int, label: str) -> dict[str, str]:
    """`count` job runs spread evenly over `clusters`; {job run id: virtual cluster id}, in start order."""

    def one(index: int) -> tuple[str, str]:
        vc = clusters[index % len(clusters)]
        started = client.start_job_run(
            name=f"{label}-{index}",
            virtualClusterId=vc,
            clientToken=f"{label}-{index}",
            executionRoleArn="arn:aws:iam::123456789012:role/emr-bench",
            releaseLabel="emr-7.5.0-latest",
            jobDriver={"sparkSubmitJobDriver": {"entryPoint": "s3://bench/job.py"}},
        )
        return str(started["id"]), vc

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(one, range(count)))


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


async def shared_poller_waits(
    runs: dict[str, str], interval: float, seen: dict[str, float], outcomes: dict[str, str]
) -> None:
    """One `EmrEksJobRunTrigger` per run ({run id: virtual cluster}), all in this event loop."""
    from airflow_eks_data.triggers.emr_job_run import EmrEksJobRunTrigger

    started_at = time.time() - 5

    async def one(run_id: str, vc: str) -> None:
        async for event in EmrEksJobRunTrigger(vc, run_id, started_at=started_at, poll_interval=interval).run():
            seen[run_id] = time.monotonic()
            evidence = event.payload.get("evidence") or {}
            outcomes[run_id] = str((evidence.get("job_run") or {}).get("state") or evidence.get("kind"))
            return

    await asyncio.gather(*(one(run_id, vc) for run_id, vc in runs.items()))


async def baseline_waits(
    runs: dict[str, str], interval: float, seen: dict[str, float], outcomes: dict[str, str]
) -> None:
    from airflow_eks_data.hooks.emr_on_eks import AsyncEmrEksHook

    hook = AsyncEmrEksHook()
    async with hook.client() as client:

        async def one(run_id: str, vc: str) -> None:
            while True:
                try:
                    response = await client.describe_job_run(virtualClusterId=vc, id=run_id)
                except Exception:  # throttled past botocore's retries: the provider's trigger polls again
                    await asyncio.sleep(interval)
                    continue
                if response["jobRun"]["state"] in TERMINAL:
                    seen[run_id] = time.monotonic()
                    outcomes[run_id] = response["jobRun"]["state"]
                    return
                await asyncio.sleep(interval)

        await asyncio.gather(*(one(run_id, vc) for run_id, vc in runs.items()))


async def until(deadline: float, waits: Any) -> None:
    """`waits`, cancelled at `deadline` (monotonic): what is not detected by then is lost."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(waits, max(deadline - time.monotonic(), 0.0))


def baseline_process(
    env: dict[str, str], runs: dict[str, str], interval: float, deadline: float, out: Any, waits: Any = None
) -> None:
    """The baseline in its own process, as it would be in its own triggerer: its CPU does not stall
    the shared poller's event loop (CLOCK_MONOTONIC is system-wide, so timestamps compare)."""
    os.environ.update(env)
    seen: dict[str, float] = {}
    outcomes: dict[str, str] = {}
    asyncio.run(until(deadline, (waits or baseline_waits)(runs, interval, seen, outcomes)))
    out.put((seen, outcomes))


def latency(seen: dict[str, float], changed: dict[str, float]) -> list[float]:
    return sorted(max(seen[r] - changed[r], 0.0) for r in seen if r in changed)


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))] if values else float("nan")


async def storm(url: str, args: argparse.Namespace, began: float) -> None:
    """Throttle `--throttle` of every call from `--storm-from` to `--storm-to` seconds (0: no storm)."""
    if not args.throttle:
        return
    await asyncio.sleep(max(args.storm_from - (time.monotonic() - began), 0.0))
    settings = {"rate": args.throttle, "kinds": ["throttle"], "seed": args.seed}
    await asyncio.to_thread(post, url, "/_emr_test/faults", settings)
    if args.storm_to == float("inf"):
        return  # to the end of the run
    await asyncio.sleep(max(args.storm_to - (time.monotonic() - began), 0.0))
    await asyncio.to_thread(post, url, "/_emr_test/faults", {"rate": 0.0})


def schedule_for(args: argparse.Namespace, runs: dict[str, dict[str, str]]) -> tuple[list[Any], dict[str, str]]:
    """(at, run id, state): the i-th run of each workload ends at the same time, one in ten FAILED;
    and the terminal state of each run."""
    schedule, expected = [], {}
    for workload in runs.values():
        for index, run_id in enumerate(workload):
            at = random.Random(args.seed + index).uniform(args.min_run, args.max_run)
            expected[run_id] = "FAILED" if index % 10 == 0 else "COMPLETED"
            schedule.append((at, run_id, expected[run_id]))
    random.Random(args.seed).shuffle(schedule)
    return schedule, expected


async def run_both(
    args: argparse.Namespace,
    url: str,
    runs: dict[str, dict[str, str]],
    shared: Callable[..., Any] = shared_poller_waits,
    baseline: Callable[..., Any] = baseline_waits,
    change: Callable[[str, str], dict[str, Any]] = emr_on_eks_change,
    schedule_of: Callable[..., tuple[list[Any], dict[str, str]]] = schedule_for,
) -> Any:
    """Both workloads on the same schedule: seen and outcomes by workload and run, the expected
    outcomes, when each run changed, and when the clock started."""
    schedule, expected = schedule_of(args, runs)
    changed: dict[str, float] = {}
    seen: dict[str, dict[str, float]] = {"shared": {}, "baseline": {}}
    outcomes: dict[str, dict[str, str]] = {"shared": {}, "baseline": {}}
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    env = {k: v for k, v in os.environ.items() if k.startswith(("AIRFLOW", "AWS"))}
    # Lost: not detected `--grace` seconds after the last change (the clock starts after the 3 s below).
    deadline = time.monotonic() + (0.0 if args.alone else 3.0) + args.max_run + args.grace
    process = context.Process(
        target=baseline_process, args=(env, runs["baseline"], args.interval, deadline, out, baseline)
    )
    if not args.alone:
        process.start()
        await asyncio.sleep(3.0)  # let the baseline process import and start polling
    began = time.monotonic()
    await asyncio.gather(
        finish_on_schedule(url, schedule, changed, change),
        storm(url, args, began),
        until(deadline, shared(runs["shared"], args.interval, seen["shared"], outcomes["shared"])),
    )
    if not args.alone:
        seen["baseline"], outcomes["baseline"] = await asyncio.to_thread(out.get)
        process.join()
    return seen, outcomes, expected, changed, began


def arguments(description: str | None, **extra: dict[str, Any]) -> argparse.Namespace:
    """The options both EMR trigger benchmarks take (`extra`: more, as `add_argument` keywords by flag)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waits", "--jobs", type=int, default=10_000, help="concurrent shared-poller waits")
    parser.add_argument(
        "--baseline-waits", type=int, default=1000, help="per-job polling waits (their calls are scaled per wait)"
    )
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, seconds (both workloads)")
    parser.add_argument("--min-run", type=float, default=60.0, help="earliest a run ends, seconds")
    parser.add_argument("--max-run", type=float, default=150.0, help="latest a run ends, seconds")
    parser.add_argument("--throttle", type=float, default=0.0, help="fraction of calls throttled in the storm")
    parser.add_argument("--storm-from", type=float, default=0.0, help="storm start, seconds into the run")
    parser.add_argument("--storm-to", type=float, default=float("inf"), help="storm end, seconds into the run")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds after the last change before a wait is lost")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--alone", action="store_true", help="run the shared waits without the baseline's load")
    for flag, options in extra.items():
        parser.add_argument(flag, **options)
    args = parser.parse_args()
    args.baseline_waits = min(args.baseline_waits, args.waits)
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


@dataclass
class Measured:
    """One run's figures, as `report` prints them."""

    args: argparse.Namespace
    locations: dict[str, list[str]]
    """Virtual clusters (or applications) by workload."""
    runs: dict[str, dict[str, str]]
    seen: dict[str, dict[str, float]]
    outcomes: dict[str, dict[str, str]]
    expected: dict[str, str]
    changed: dict[str, float]
    began: float
    elapsed: float
    calls: dict[tuple[str, str], int]
    operations: tuple[str, ...]
    titles: dict[str, str]
    describe: str


def report(m: Measured) -> None:
    """The table rows (ready for benchmarks/README.md) and the goals, met or missed."""
    args = m.args
    storm = (
        f", {args.throttle:.0%} of calls throttled at {args.storm_from:g}-{args.storm_to:g}s" if args.throttle else ""
    )
    print(
        f"\n{args.waits:,} shared waits over {len(m.locations['shared'])} locations, baseline "
        f"{len(m.runs['baseline']):,} waits, interval {args.interval:g}s, runs end at {args.min_run:g}-"
        f"{args.max_run:g}s{storm}, wall {m.elapsed:.0f}s"
    )
    if len(m.runs["baseline"]) < args.waits:
        scale = args.waits / max(len(m.runs["baseline"]), 1)
        print(
            f"baseline: {len(m.runs['baseline']):,} per-job pollers (10,000 would swamp this "
            f"{os.cpu_count()}-core machine and moto); its calls are scaled per wait (x{scale:g}) in the ratio"
        )
    late_after = 2 * args.interval
    print()
    ops = " | ".join(m.operations)
    print(
        f"| workload | waits | {ops} | total calls | calls per wait | detected | wrong outcome "
        f"| latency p50 s | p99 s | max s | lost | late > {late_after:g}s |"
    )
    print("|---" * (11 + len(m.operations)) + "|")
    totals: dict[str, int] = {}
    for label in ("shared", "baseline"):
        runs = m.runs[label]
        if not runs or (label == "baseline" and args.alone):
            continue
        mine = set(m.locations[label])
        counts = {op: sum(n for (loc, o), n in m.calls.items() if loc in mine and o == op) for op in m.operations}
        totals[label] = sum(counts.values())
        lat = latency(m.seen[label], m.changed)
        lost = sum(run_id not in m.seen[label] for run_id in runs)
        late = sum(value > late_after for value in lat)
        wrong = sum(m.outcomes[label].get(run_id) != m.expected[run_id] for run_id in runs if run_id in m.seen[label])
        cells = " | ".join(f"{counts[op]:,}" for op in m.operations)
        p50, p99, top = (statistics.median(lat), percentile(lat, 0.99), lat[-1]) if lat else (0.0, 0.0, 0.0)
        print(
            f"| {m.titles[label]} | {len(runs):,} | {cells} | {totals[label]:,} | {totals[label] / len(runs):.2f} | "
            f"{len(m.seen[label]):,}/{len(runs):,} | {wrong} | {p50:.2f} | {p99:.2f} | {top:.2f} | {lost} | {late} |"
        )
    # The goal's definition: one describe per job per interval until it is seen ended (counted from the
    # schedule, for the shared workload's runs); on a small machine the measured baseline may fall behind.
    ideal = sum(int((m.changed[r] - m.began) // args.interval) + 2 for r in m.runs["shared"] if r in m.changed)
    shared = totals.get("shared", 0)
    print()
    if "baseline" in totals:
        per_wait = totals["baseline"] / len(m.runs["baseline"])
        scaled = per_wait * args.waits
        print(
            f"calls: {scaled / max(shared, 1):.1f}x fewer than the baseline as measured, scaled to "
            f"{args.waits:,} waits ({scaled:,.0f} calls; {per_wait:.1f} polls per job)"
        )
    print(
        f"calls: {ideal / max(shared, 1):.1f}x fewer than one {m.describe} per job per interval "
        f"({ideal:,} calls, counted from the schedule; goal >= 50x)"
    )
    lat = latency(m.seen["shared"], m.changed)
    lost = sum(run_id not in m.seen["shared"] for run_id in m.runs["shared"])
    worst = lat[-1] if lat else float("nan")
    print(f"shared detection: worst {worst:.2f}s, p99 {percentile(lat, 0.99):.2f}s (goal <= {args.interval + 1:g}s)")
    if args.throttle:
        in_storm = [r for r in m.runs["shared"] if args.storm_from <= m.changed.get(r, -1.0) - m.began <= args.storm_to]
        late = sum(m.seen["shared"][r] - m.changed[r] > late_after for r in in_storm if r in m.seen["shared"])
        missing = sum(r not in m.seen["shared"] for r in in_storm)
        print(
            f"storm: {len(in_storm):,} runs ended in it; lost {missing}, late > {late_after:g}s {late} "
            f"(goal 0 and 0); lost overall {lost}"
        )


def main() -> None:
    extra = {"--clusters": {"type": int, "default": 10, "help": "virtual clusters of the shared waits"}}
    args = arguments(__doc__, **extra)
    server, url, client = moto_server("emr-containers")
    try:

        def cluster(name: str) -> str:
            provider = {"id": "eks", "type": "EKS", "info": {"eksInfo": {"namespace": name}}}
            return str(client.create_virtual_cluster(name=name, containerProvider=provider)["id"])

        clusters = {"shared": [cluster(f"shared-{i}") for i in range(args.clusters)], "baseline": [cluster("baseline")]}
        setup = time.monotonic()
        counts = {"shared": args.waits, "baseline": 0 if args.alone else args.baseline_waits}
        runs = {label: start_runs(client, clusters[label], counts[label], label) for label in clusters}
        print(f"started {sum(counts.values()):,} job runs in {time.monotonic() - setup:.1f}s; waiting ...", flush=True)
        seen, outcomes, expected, changed, began = asyncio.run(run_both(args, url, runs))
        elapsed = time.monotonic() - began
        calls = calls_by_cluster(url)
    finally:
        server.terminate()
        server.join()
    titles = {"shared": "shared poller (EmrEksJobRunTrigger)", "baseline": "per-job DescribeJobRun"}
    report(
        Measured(
            args,
            clusters,
            runs,
            seen,
            outcomes,
            expected,
            changed,
            began,
            elapsed,
            calls,
            ("ListJobRuns", "DescribeJobRun"),
            titles,
            "DescribeJobRun",
        )
    )


if __name__ == "__main__":
    main()
