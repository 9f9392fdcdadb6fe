"""One triggerer, many waits: the shared-watch SparkApplicationTrigger against per-job polling.

Run: `.venv/bin/python benchmarks/bench_triggers.py` (1,000 waits, 5-7 minutes), or
`--waits 100 --settle 10 --steady 10 --spread 20` for a quick look.
Goal (issue 5): with 1,000 concurrent waits, <= 1 API request/s at steady state, p99 detection
<= 1 s, <= 10 KB of memory per waiting trigger.

Each mode runs against its own test API server (`tests/kubeapi`) in its own process, and its
triggers run in a client process of their own (the triggerer's part alone: its RSS and CPU are the
triggers'). The orchestrator (this process, without Airflow) drives both over stdin/stdout:

1. the server creates N SparkApplications at t0; each one is pending 1-5 s, then runs so that the
   terminal states are spread evenly over `[t0 + settle + steady + 5, ... + spread]`;
2. the client starts N triggers at once (after a warm-up GET, so that imports are not counted);
3. during the steady window `[t0 + settle, t0 + settle + steady]` every application runs and nothing
   changes: requests/s come from the server's counters, memory per waiting trigger from the client's
   RSS growth (and tracemalloc with `--tracemalloc`);
4. detection delay = the time the client got the trigger's event minus the time the server committed
   the terminal state (a store listener, wall clock: both processes share the host clock).

Modes: `watch` is `SparkApplicationTrigger` (one list+watch per namespace shared by every trigger,
reads of the driver pod and node when the app runs and evidence at the end); `poll` is the baseline
below, what cncf-kubernetes' triggers do: one GET of the application per job every `--interval`
seconds, through the same hook (a new API client per call, as the cncf `AsyncKubernetesHook` does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "datalake"
PROFILE = ROOT / "dags_examples" / "profiles" / "compaction.yaml"
MARK = "@@bench "  # protocol lines on a child's stdout start with this; anything else is passed to stderr
TERMINAL = ("COMPLETED", "FAILED")
MODES = ("watch", "poll")
GOAL_RPS = 1.0
GOAL_P99_S = 1.0
GOAL_KB = 10.0


# ---- protocol ------------------------------------------------------------------------------------


def _send(stream: IO[str], message: dict[str, Any]) -> None:
    stream.write(MARK + json.dumps(message) + "\n")
    stream.flush()


def _receive(line: str) -> dict[str, Any]:
    """A message from the orchestrator; {} when it closed the pipe."""
    message: dict[str, Any] = json.loads(line.removeprefix(MARK)) if line.strip() else {}
    return message


def _rss_kb(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Child:
    """A child process spoken to with JSON lines (replies are the lines marked with MARK)."""

    def __init__(self, role: str, extra: list[str], env: dict[str, str]) -> None:
        self.role = role
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--role", role, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        _send(self.proc.stdin, message)
        return self.read()

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(MARK):
                reply: dict[str, Any] = json.loads(line[len(MARK) :])
                if "error" in reply:
                    raise RuntimeError(f"{self.role}: {reply['error']}")
                return reply
            sys.stderr.write(line)
        raise RuntimeError(f"{self.role} exited with {self.proc.wait()}")

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


# ---- server role: the test API server, scripted, with the terminal-state times ---------------------


def _serve(waits: int) -> int:
    from airflow_eks_data.pipeline import prepare
    from tests.kubeapi.resources import BY_PLURAL, ResourceType
    from tests.kubeapi.scenarios import Succeed
    from tests.kubeapi.server import KubeApiServer
    from tests.kubeapi.store import Change

    job: dict[str, Any] = {
        "name": "bench",
        "tenant": NAMESPACE,
        "main_application_file": "s3://bench/job.py",
        "labels": {"team": "bench", "cost-center": "bench"},
    }
    bodies = {name: prepare(job, PROFILE, app_name=name).document for name in _names(waits)}
    server = KubeApiServer(speed=1.0).start()
    apps = BY_PLURAL["sparkapplications"]
    terminal: dict[str, tuple[str, float]] = {}
    app_writes = [0]

    def listener(rtype: ResourceType, change: Change) -> None:
        if rtype.plural != "sparkapplications":
            return
        app_writes[0] += 1
        state = ((change.obj.get("status") or {}).get("applicationState") or {}).get("state")
        name = change.obj["metadata"]["name"]
        if state in TERMINAL and name not in terminal:
            terminal[name] = (state, time.time())

    server.call(lambda: server.store.listeners.append(listener))
    _send(sys.stdout, {"url": server.url, "connection": server.airflow_connection_json()})
    try:
        for line in sys.stdin:
            command = _receive(line)
            if command["cmd"] == "create":
                started = time.time()
                plan = command["apps"]
                for name, pending_for, run_for in plan:
                    server.script(name, Succeed(pending_for=pending_for, run_for=run_for))
                for i in range(0, len(plan), 50):
                    batch = [bodies[name] for name, _, _ in plan[i : i + 50]]

                    def create(batch: list[dict[str, Any]] = batch) -> None:
                        for body in batch:
                            server.store.create(apps, NAMESPACE, body)

                    server.call(create, timeout=60)
                _send(sys.stdout, {"t0": started, "created": time.time()})
            elif command["cmd"] == "counters":
                at = time.time()
                counters = [[verb, res, n] for (verb, res), n in server.iter_requests()]
                writes = server.call(lambda: app_writes[0])
                _send(sys.stdout, {"time": at, "counters": counters, "app_writes": writes})
            elif command["cmd"] == "terminal":
                _send(sys.stdout, {"terminal": server.call(lambda: dict(terminal))})
    finally:
        server.stop()
    return 0


def _names(waits: int) -> list[str]:
    return [f"bench-{i:05d}" for i in range(waits)]


# ---- client role: the triggers, as a triggerer runs them (one event loop) --------------------------


@functools.cache
def _polling_trigger_class() -> Any:
    """The baseline: what cncf-kubernetes' triggers do, one GET per job per interval."""
    from airflow.triggers.base import BaseTrigger, TriggerEvent

    from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook
    from airflow_eks_data.triggers.events import app_state

    class PollingSparkApplicationTrigger(BaseTrigger):
        def __init__(
            self, name: str, namespace: str, kubernetes_conn_id: str, poll_interval: float, phase: float = 0.0
        ) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.name = name
            self.namespace = namespace
            self.kubernetes_conn_id = kubernetes_conn_id
            self.poll_interval = poll_interval
            self.phase = phase

        def serialize(self) -> tuple[str, dict[str, Any]]:
            return (
                f"{type(self).__module__}.{type(self).__qualname__}",
                {
                    "name": self.name,
                    "namespace": self.namespace,
                    "kubernetes_conn_id": self.kubernetes_conn_id,
                    "poll_interval": self.poll_interval,
                    "phase": self.phase,
                },
            )

        async def run(self) -> AsyncIterator[TriggerEvent]:
            hook = AsyncSparkOperatorHook(conn_id=self.kubernetes_conn_id)
            # Triggers in a real triggerer were deferred at different times: their polls are spread.
            await asyncio.sleep(self.phase)
            while True:
                application = await hook.get_application(self.name, self.namespace)
                state = "DELETED" if application is None else app_state(application)
                if state in (*TERMINAL, "DELETED"):
                    yield TriggerEvent(  # type: ignore[no-untyped-call]
                        {"name": self.name, "namespace": self.namespace, "app_state": state}
                    )
                    return
                await asyncio.sleep(self.poll_interval)

    return PollingSparkApplicationTrigger


def _polling_trigger(name: str, interval: float, phase: float) -> BaseTrigger:
    trigger: BaseTrigger = _polling_trigger_class()(name, NAMESPACE, "kubernetes_default", interval, phase)
    return trigger


def _watch_trigger(name: str, interval: float) -> BaseTrigger:
    from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger

    return SparkApplicationTrigger(name, NAMESPACE, "kubernetes_default", poll_interval=interval)


def _last_state(payload: dict[str, Any]) -> str:
    if "app_state" in payload:
        return str(payload["app_state"])
    if "classification" in payload:
        return "classified"
    evidence = payload.get("evidence") or {}
    snapshots = evidence.get("snapshots") or []
    if snapshots:
        return str((snapshots[-1].get("applicationState") or {}).get("state") or "?")
    return str(evidence.get("kind") or "?")


def _reuse_ssl_contexts() -> None:
    """What-if (`--reuse-ssl-context`): one SSL context per CA file for the whole process.

    kubernetes_asyncio's `RESTClientObject.__init__` calls `ssl.create_default_context()`, which loads
    the whole CA bundle (~70-90 ms of CPU here, holding the event loop), and the hooks (ours and
    cncf's) build a new API client for every call. This shows what the waits cost without that.
    """
    import ssl

    original = ssl.create_default_context
    made: dict[tuple[Any, ...], ssl.SSLContext] = {}

    def create_default_context(
        purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH,
        *,
        cafile: str | None = None,
        capath: str | None = None,
        cadata: str | bytes | None = None,
    ) -> ssl.SSLContext:
        key = (purpose, cafile, capath, cadata)
        if key not in made:
            made[key] = original(purpose, cafile=cafile, capath=capath, cadata=cadata)
        return made[key]

    ssl.create_default_context = create_default_context  # type: ignore[assignment]


def _client(mode: str, interval: float, trace: bool) -> int:
    from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook

    # Loaded before the measurement starts: the trigger modules and the whole request path.
    _ = _watch_trigger("bench-warmup", interval), _polling_trigger("bench-warmup", interval, 0.0)

    async def main() -> dict[str, Any]:
        assert await AsyncSparkOperatorHook(conn_id="kubernetes_default").get_application("warmup", NAMESPACE) is None
        loop = asyncio.get_running_loop()
        _send(sys.stdout, {"ready": True, "rss_kb": _rss_kb()})
        go = _receive(await loop.run_in_executor(None, sys.stdin.readline))
        if not go:
            return {}
        names: list[str] = go["names"]
        steady_start, steady_end, give_up = go["steady_start"], go["steady_end"], go["give_up"]
        rng = random.Random(7)
        triggers = [
            _watch_trigger(n, interval) if mode == "watch" else _polling_trigger(n, interval, rng.uniform(0, interval))
            for n in names
        ]
        if trace:
            import tracemalloc

            tracemalloc.start(1)
        gc.collect()
        before_kb = _rss_kb()
        trace_before = _trace_snapshot(trace)
        events: dict[str, tuple[float, str]] = {}

        async def wait_one(trigger: BaseTrigger) -> None:
            async for event in trigger.run():
                events[str(getattr(trigger, "name", "?"))] = (time.time(), _last_state(dict(event.payload)))
                return

        started = time.time()
        tasks = [asyncio.create_task(wait_one(t)) for t in triggers]
        del triggers
        samples: dict[str, Any] = {"peak_kb": before_kb}

        async def sample() -> None:
            await asyncio.sleep(max(steady_start - time.time(), 0))
            samples["cpu_start"], samples["waiting_at_start"] = _cpu_s(), len(names) - len(events)
            await asyncio.sleep(max((steady_start + steady_end) / 2 - time.time(), 0))
            gc.collect()
            samples["waiting_kb"], samples["waiting"] = _rss_kb(), len(names) - len(events)
            samples.update(_trace_diff(trace, trace_before, len(names)))
            await asyncio.sleep(max(steady_end - time.time(), 0))
            samples["cpu_end"], samples["waiting_at_end"] = _cpu_s(), len(names) - len(events)

        async def peak() -> None:
            while True:
                samples["peak_kb"] = max(samples["peak_kb"], _rss_kb())
                await asyncio.sleep(0.5)

        sampler, peaker = asyncio.create_task(sample()), asyncio.create_task(peak())
        _, pending = await asyncio.wait(tasks, timeout=max(give_up - time.time(), 1.0))
        for task in pending:
            task.cancel()
        if pending:  # a saturated loop may take long to unwind them: do not wait for more than 10 s
            await asyncio.wait(pending, timeout=10)
        failures = [repr(t.exception()) for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sampler, timeout=max(steady_end - time.time(), 0) + 5)
        peaker.cancel()
        return {
            "started": started,
            "events": events,
            "timed_out": len(pending),
            "failures": failures[:5],
            "failed": len(failures),
            "before_kb": before_kb,
            "end_kb": _rss_kb(),
            **samples,
        }

    loop = asyncio.new_event_loop()
    _send(sys.stdout, loop.run_until_complete(main()))
    os._exit(0)  # leave what a saturated loop has not unwound yet


def _trace_snapshot(trace: bool) -> Any:
    if not trace:
        return None
    import tracemalloc

    return tracemalloc.take_snapshot()


def _trace_diff(trace: bool, before: Any, waits: int) -> dict[str, Any]:
    if not trace:
        return {}
    import tracemalloc

    after = tracemalloc.take_snapshot()
    stats = after.compare_to(before, "lineno")
    total = sum(s.size_diff for s in stats)
    top = [
        [f"{Path(s.traceback[0].filename).name}:{s.traceback[0].lineno}", round(s.size_diff / waits / 1024, 2)]
        for s in stats[:8]
    ]
    return {"traced_kb_per_wait": round(total / waits / 1024, 2), "traced_top": top}


# ---- orchestrator --------------------------------------------------------------------------------


@dataclass
class ModeResult:
    mode: str
    waits: int
    steady_s: float
    steady_requests: int
    steady_app_writes: int
    total_requests: int
    by_request: dict[str, int]
    delays: list[float]
    states: dict[str, int]
    missing: int
    failed: int
    rss_before_kb: int
    rss_waiting_kb: int
    rss_peak_kb: int
    waiting_at_sample: int
    cpu_steady_s: float
    traced_kb_per_wait: float | None
    traced_top: list[list[Any]]
    wall_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def steady_rps(self) -> float:
        return self.steady_requests / self.steady_s

    @property
    def kb_per_wait(self) -> float:
        return (self.rss_waiting_kb - self.rss_before_kb) / self.waits

    def pct(self, q: float) -> float:
        if not self.delays:
            return float("nan")
        ordered = sorted(self.delays)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _plan(args: argparse.Namespace) -> list[list[Any]]:
    """[name, pending_for, run_for]: terminal times spread evenly over the completion phase."""
    rng = random.Random(args.seed)
    names = _names(args.waits)
    first = args.settle + args.steady + 5.0
    plan = []
    order = list(range(args.waits))
    rng.shuffle(order)
    for name, slot in zip(names, order, strict=True):
        pending = rng.uniform(1.0, 5.0)
        end = first + args.spread * (slot + 0.5) / args.waits
        # Driver pending, then executors start 1 s after the driver (see tests/kubeapi/cluster.py), then run_for.
        plan.append([name, round(pending, 3), round(end - pending - 1.0, 3)])
    return plan


def _counters(server: Child) -> tuple[float, dict[str, int], int]:
    reply = server.request({"cmd": "counters"})
    return reply["time"], {f"{v} {r}": n for v, r, n in reply["counters"]}, reply["app_writes"]


def _sleep_until(when: float) -> None:
    time.sleep(max(when - time.time(), 0.0))


def _run_mode(mode: str, server: Child, client: Child, args: argparse.Namespace) -> ModeResult:
    started = time.monotonic()
    plan = _plan(args)
    created = server.request({"cmd": "create", "apps": plan})
    t0 = created["created"]
    steady_start, steady_end = t0 + args.settle, t0 + args.settle + args.steady
    give_up = t0 + args.settle + args.steady + 5.0 + args.spread + 30.0
    assert client.proc.stdin is not None
    _send(
        client.proc.stdin,
        {
            "names": [name for name, _, _ in plan],
            "steady_start": steady_start,
            "steady_end": steady_end,
            "give_up": give_up,
        },
    )
    _sleep_until(steady_start)
    at0, counts0, writes0 = _counters(server)
    _sleep_until(steady_end)
    at1, counts1, writes1 = _counters(server)
    result = client.read()
    _, counts, _ = _counters(server)
    terminal = server.request({"cmd": "terminal"})["terminal"]
    delays: list[float] = []
    states: dict[str, int] = {}
    for name, (at, state) in result["events"].items():
        states[state] = states.get(state, 0) + 1
        if name in terminal:
            delays.append(at - terminal[name][1])
    notes = []
    if result["waiting_at_start"] != args.waits or result["waiting_at_end"] != args.waits:
        notes.append(f"not all waiting in the steady window ({result['waiting_at_start']}, {result['waiting_at_end']})")
    if writes1 != writes0:
        notes.append(f"{writes1 - writes0} application writes in the steady window")
    return ModeResult(
        mode=mode,
        waits=args.waits,
        steady_s=at1 - at0,
        steady_requests=sum(counts1.values()) - sum(counts0.values()),
        steady_app_writes=writes1 - writes0,
        total_requests=sum(counts.values()),
        by_request=dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        delays=delays,
        states=states,
        missing=args.waits - len(result["events"]),
        failed=result["failed"],
        rss_before_kb=result["before_kb"],
        rss_waiting_kb=result.get("waiting_kb", result["before_kb"]),
        rss_peak_kb=result["peak_kb"],
        waiting_at_sample=result.get("waiting", 0),
        cpu_steady_s=result.get("cpu_end", 0.0) - result.get("cpu_start", 0.0),
        traced_kb_per_wait=result.get("traced_kb_per_wait"),
        traced_top=result.get("traced_top", []),
        wall_s=time.monotonic() - started,
        notes=notes + [f"failure: {f}" for f in result["failures"]],
    )


def _report(results: list[ModeResult], args: argparse.Namespace) -> None:
    watch, poll = (next(r for r in results if r.mode == m) for m in MODES)

    def row(label: str, fmt: str, get: Any, goal: str = "", ok: Any = None) -> None:
        met = "" if ok is None else ("met" if ok(watch) else "MISSED")
        print(f"| {label} | {fmt.format(get(watch))} | {fmt.format(get(poll))} | {goal} | {met} |")

    print(f"\n{args.waits} waits, interval {args.interval:g} s, steady window {args.steady:g} s, ", end="")
    print(f"completions over {args.spread:g} s", end="")
    print(", SSL context reused (what-if)\n" if args.reuse_ssl_context else ", code as is\n")
    print("| metric | shared watch (SparkApplicationTrigger) | per-job polling (cncf-style) | goal | watch |")
    print("|---|---|---|---|---|")
    row("requests/s at steady state", "{:.2f}", lambda r: r.steady_rps, f"<= {GOAL_RPS:g}", lambda r: r.steady_rps <= 1)
    row("requests per job (whole run)", "{:.2f}", lambda r: r.total_requests / r.waits)
    row("detection delay p50 (s)", "{:.3f}", lambda r: r.pct(0.5))
    row("detection delay p99 (s)", "{:.3f}", lambda r: r.pct(0.99), f"<= {GOAL_P99_S:g}", lambda r: r.pct(0.99) <= 1)
    row("detection delay max (s)", "{:.3f}", lambda r: max(r.delays, default=float("nan")))
    row(
        "RSS per waiting trigger (KB)",
        "{:.1f}",
        lambda r: r.kb_per_wait,
        f"<= {GOAL_KB:g}",
        lambda r: r.kb_per_wait <= 10,
    )
    if watch.traced_kb_per_wait is not None:
        row("tracemalloc per waiting trigger (KB)", "{:.1f}", lambda r: r.traced_kb_per_wait)
    row("client RSS before / waiting / peak (MB)", "{}", _mb)
    row("client CPU in the steady window (%)", "{:.1f}", lambda r: 100 * r.cpu_steady_s / r.steady_s)
    row("events (terminal state)", "{}", lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r.states.items())))
    row("missing / failed waits", "{}", lambda r: f"{r.missing} / {r.failed}")
    row("wall time of the mode (s)", "{:.0f}", lambda r: r.wall_s)
    for r in results:
        print(f"\n{r.mode}: requests by verb and resource: {r.by_request}")
        if r.traced_top:
            print(f"{r.mode}: tracemalloc growth per waiting trigger, KB, by line: {r.traced_top}")
        for note in r.notes:
            print(f"{r.mode}: NOTE {note}")


def _mb(r: ModeResult) -> str:
    return f"{r.rss_before_kb / 1024:.0f} / {r.rss_waiting_kb / 1024:.0f} / {r.rss_peak_kb / 1024:.0f}"


@contextlib.contextmanager
def _children(args: argparse.Namespace, env: dict[str, str]) -> Iterator[dict[str, tuple[Child, Child]]]:
    """A server and a client per mode, started together (the client's imports take ~20 s)."""
    started: list[Child] = []
    try:
        servers = {}
        for mode in MODES:
            servers[mode] = Child("server", ["--waits", str(args.waits)], env)
            started.append(servers[mode])
        pairs = {}
        for mode in MODES:
            info = servers[mode].read()
            client_env = {**env, "AIRFLOW_CONN_KUBERNETES_DEFAULT": info["connection"]}
            extra = ["--mode", mode, "--interval", str(args.interval), *(["--tracemalloc"] if args.tracemalloc else [])]
            extra += ["--reuse-ssl-context"] if args.reuse_ssl_context else []
            client = Child("client", extra, client_env)
            started.append(client)
            pairs[mode] = (servers[mode], client)
        yield pairs
    finally:
        for child in started:
            child.close()


def orchestrate(args: argparse.Namespace) -> list[ModeResult]:
    home = tempfile.mkdtemp(prefix="bench-triggers-airflow-")
    env = {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    try:
        with _children(args, env) as pairs:
            for _, client in pairs.values():
                client.read()  # ready: imports done, one warm-up GET made
            results = []
            for mode in MODES:
                server, client = pairs[mode]
                print(f"running {mode} ...", file=sys.stderr, flush=True)
                results.append(_run_mode(mode, server, client, args))
                server.close()
                client.close()
        return results
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waits", type=int, default=1000, help="concurrent waits (default 1000)")
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, both modes (default 5 s)")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds from t0 to the steady window")
    parser.add_argument("--steady", type=float, default=30.0, help="steady window, seconds (nothing changes)")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the completions spread")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations (slows the clients)")
    parser.add_argument(
        "--reuse-ssl-context",
        action="store_true",
        help="what-if: cache ssl.create_default_context() in the clients (see _reuse_ssl_contexts)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--role", choices=("orchestrator", "server", "client"), default="orchestrator")
    parser.add_argument("--mode", choices=MODES, default="watch", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "server":
        return _serve(args.waits)
    if args.role == "client":
        if not os.environ.get("AIRFLOW_HOME", "").startswith(tempfile.gettempdir()):
            raise SystemExit("the client role runs only under the orchestrator's throw-away AIRFLOW_HOME")
        if args.reuse_ssl_context:
            _reuse_ssl_contexts()
        return _client(args.mode, args.interval, args.tracemalloc)
    results = orchestrate(args)
    _report(results, args)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1, default=str))
    return 0


def _watchdog(seconds: float) -> None:
    """Children end by themselves if the orchestrator vanishes without closing their stdin."""

    def run() -> None:
        time.sleep(seconds)
        os._exit(3)

    threading.Thread(target=run, daemon=True).start()


if __name__ == "__main__":
    if "--role" in sys.argv:
        _watchdog(900)
    raise SystemExit(main())
