"""Load check: N concurrent watchers, one per SparkApplication, until every app COMPLETED.

The server runs in its own process (``tests.kubeapi.serve``) so its memory and CPU are measured
alone, from ``/proc``. Watchers are raw aiohttp streams with ``fieldSelector=metadata.name=<app>``,
``allowWatchBookmarks`` and a long ``timeoutSeconds``, the way a triggerer watches its apps.

    python -m tests.kubeapi.bench_watchers --watchers 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

from tests.kubeapi.manifests import GROUP, PLURAL, VERSION, spark_app

APPS_URL = f"/apis/{GROUP}/{VERSION}/namespaces/bench/{PLURAL}"


@dataclass
class Result:
    watchers: int
    completed: int
    startup_s: float
    open_watchers_s: float
    run_to_completion_s: float
    rss_idle_mb: float
    rss_watching_mb: float
    rss_peak_mb: float
    cpu_open_s: float
    cpu_run_s: float
    requests: dict[str, int]


def _proc(pid: int) -> tuple[float, float]:
    """(RSS MB, CPU seconds) of a process."""
    with open(f"/proc/{pid}/status") as f:
        rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss_kb / 1024, (int(fields[11]) + int(fields[12])) / ticks


async def _watch(session: aiohttp.ClientSession, url: str, name: str, opened: asyncio.Event, done: list[str]) -> None:
    params = {
        "watch": "true",
        "fieldSelector": f"metadata.name={name}",
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "600",
    }
    async with session.get(url + APPS_URL, params=params) as response:
        opened.set()
        async for line in response.content:
            event: dict[str, Any] = json.loads(line)
            state = ((event["object"].get("status") or {}).get("applicationState") or {}).get("state")
            if state == "COMPLETED":
                done.append(name)
                return


async def _run(url: str, pid: int, watchers: int) -> tuple[Result, float]:
    rss_idle, cpu0 = _proc(pid)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    done: list[str] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        names = [f"app-{i:04d}" for i in range(watchers)]
        opened = [asyncio.Event() for _ in names]
        started = time.monotonic()
        tasks = [asyncio.create_task(_watch(session, url, n, o, done)) for n, o in zip(names, opened, strict=True)]
        await asyncio.gather(*(o.wait() for o in opened))
        open_s = time.monotonic() - started
        await asyncio.sleep(0.5)
        rss_watching, cpu1 = _proc(pid)

        sem = asyncio.Semaphore(50)

        async def create(name: str) -> None:
            async with (
                sem,
                session.post(url + APPS_URL, json=spark_app(name, namespace="bench", scenario="success")) as r,
            ):
                assert r.status == 201, await r.text()

        started = time.monotonic()
        peak = rss_watching
        await asyncio.gather(*(create(n) for n in names))
        while len(done) < watchers and time.monotonic() - started < 300:
            await asyncio.sleep(0.2)
            peak = max(peak, _proc(pid)[0])
        run_s = time.monotonic() - started
        rss_end, cpu2 = _proc(pid)
        for task in tasks:
            task.cancel()
        async with session.get(url + "/kubeapi/counters") as r:
            counters = {f"{v} {res}": n for v, res, n in await r.json()}
    result = Result(
        watchers=watchers,
        completed=len(done),
        startup_s=0.0,
        open_watchers_s=round(open_s, 2),
        run_to_completion_s=round(run_s, 2),
        rss_idle_mb=round(rss_idle, 1),
        rss_watching_mb=round(rss_watching, 1),
        rss_peak_mb=round(max(peak, rss_end), 1),
        cpu_open_s=round(cpu1 - cpu0, 2),
        cpu_run_s=round(cpu2 - cpu1, 2),
        requests=counters,
    )
    return result, run_s


def run(watchers: int = 1000, speed: float = 5.0) -> Result:
    """Start a server process, run the load, stop the server; returns the measurements."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kubeapi.serve", "--speed", str(speed), "--bookmark-interval", "5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        startup = time.monotonic() - started
        result, _ = asyncio.run(_run(info["url"], info["pid"], watchers))
        result.startup_s = round(startup, 2)
        return result
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--speed", type=float, default=5.0)
    args = parser.parse_args()
    print(json.dumps(asdict(run(args.watchers, args.speed)), indent=2))


if __name__ == "__main__":
    main()
