"""One triggerer, many waits: the shared-watch SparkApplicationTrigger against per-job polling.

Run: `.venv/bin/python benchmarks/bench_triggers.py` (10,000 watch waits over 20 namespaces and a
1,000-wait polling baseline, ~17 minutes), or `--waits 200 --namespaces 4 --baseline-waits 50
--settle 15 --steady 10 --spread 30` for a quick look. The first round's run (issue 5) is
`--waits 1000 --namespaces 1 --settle 20 --steady 30 --spread 60 --no-faults`.
Goals (issue 20): with 10,000 concurrent waits, <= 1 API request/s and <= 10 % of a core at steady
state, p99 detection <= 1 s, <= 10 KB of memory per waiting trigger, and no event lost or doubled
across a 410 of every watch and a triggerer restart.

Each mode runs against its own test API server (`tests/kubeapi`, which indexes its objects by
namespace, so that a namespace's list does not scan all of them) in its own process, and its
triggers run in a client process of their own (the triggerer's part alone: its RSS and CPU are the
triggers'). The orchestrator (this process, without Airflow) drives them over stdin/stdout:

1. the server creates N SparkApplications at t0, dealt over the namespaces; each one is pending
   1-5 s, then runs so that the terminal states are spread evenly over
   `[t0 + settle + steady + 5, ... + spread]`;
2. the client starts N triggers at once (after a warm-up GET, so that imports are not counted) and
   streams each trigger's event as it fires;
3. during the steady window `[t0 + settle, t0 + settle + steady]` every application runs and nothing
   changes: requests/s come from the server's counters, memory per waiting trigger from the client's
   RSS growth (and tracemalloc with `--tracemalloc`), CPU from its rusage;
4. watch mode, a third of the way through the completions: every open watch ends with 410 Expired
   and history is compacted, so every namespace must list again; two thirds of the way: the client
   is SIGKILLed and a second client, started and warmed up beforehand, rebuilds the triggers that
   had not fired from their `serialize()` rows (classpath and kwargs, as a triggerer does from the
   database) and waits on;
5. detection delay = the time the client got the trigger's event minus the time the server committed
   the terminal state (a store listener, wall clock: all processes share the host clock); runs that
   ended between the kill and the second client's start are reported apart.

Modes: `watch` is `SparkApplicationTrigger` (one list+watch per namespace shared by every trigger,
reads of the driver pod and node when the app runs and evidence at the end); `poll` is the baseline
below, what cncf-kubernetes' triggers do: one GET of the application per job every `--interval`
seconds, through the same hook (a new API client per call, as the cncf `AsyncKubernetesHook` does),
with `--baseline-waits` waits on the first round's timeline, its rates scaled per wait.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import importlib
import json
import math
import os
import queue
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
GOAL_CPU_PCT = 10.0


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
    """A child process spoken to with JSON lines (replies are the lines marked with MARK). A thread
    reads its stdout as it comes: trigger events are collected as they stream, so that what a killed
    client sent before it died is kept, as a triggerer's committed events are."""

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
        self.events: list[list[Any]] = []
        """[name, wall time, last state] of each trigger event, in the order they came."""
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if not line.startswith(MARK):
                sys.stderr.write(line)
                continue
            message: dict[str, Any] = json.loads(line[len(MARK) :])
            if "event" in message:
                self.events.append(message["event"])
            else:
                self._replies.put(message)
        self._replies.put(None)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        _send(self.proc.stdin, message)

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        return self.read()

    def read(self) -> dict[str, Any]:
        reply = self._replies.get()
        if reply is None:
            raise RuntimeError(f"{self.role} exited with {self.proc.wait()}")
        if "error" in reply:
            raise RuntimeError(f"{self.role}: {reply['error']}")
        return reply

    def kill(self) -> None:
        """SIGKILL, as a triggerer host dies; returns once everything it wrote has been read."""
        self.proc.kill()
        self.proc.wait(10)
        self._reader.join(10)

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


def _serve() -> int:
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
                plan = command["apps"]
                bodies = []
                for namespace, name, pending_for, run_for in plan:
                    server.script(name, Succeed(pending_for=pending_for, run_for=run_for))
                    body = prepare(job, PROFILE, app_name=name).document
                    body["metadata"]["namespace"] = namespace
                    bodies.append(body)
                started = time.time()
                for i in range(0, len(bodies), 50):

                    def create(batch: list[dict[str, Any]] = bodies[i : i + 50]) -> None:
                        for body in batch:
                            server.store.create(apps, body["metadata"]["namespace"], body)

                    server.call(create, timeout=60)
                _send(sys.stdout, {"t0": started, "created": time.time()})
            elif command["cmd"] == "counters":
                at = time.time()
                counters = [[verb, res, n] for (verb, res), n in server.iter_requests()]
                writes = server.call(lambda: app_writes[0])
                _send(sys.stdout, {"time": at, "counters": counters, "app_writes": writes})
            elif command["cmd"] == "expire":
                _send(sys.stdout, {"time": time.time(), "expired": server.expire_watches()})
            elif command["cmd"] == "terminal":
                _send(sys.stdout, {"terminal": server.call(lambda: dict(terminal))})
    finally:
        server.stop()
    return 0


def _waits(count: int, namespaces: int) -> list[tuple[str, str]]:
    """(namespace, name) of each wait, dealt round-robin over the namespaces."""
    if namespaces == 1:
        return [(NAMESPACE, f"bench-{i:05d}") for i in range(count)]
    return [(f"{NAMESPACE}-{i % namespaces:02d}", f"bench-{i:05d}") for i in range(count)]


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


def _polling_trigger(namespace: str, name: str, interval: float, phase: float) -> BaseTrigger:
    trigger: BaseTrigger = _polling_trigger_class()(name, namespace, "kubernetes_default", interval, phase)
    return trigger


def _watch_trigger(namespace: str, name: str, interval: float) -> BaseTrigger:
    from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger

    return SparkApplicationTrigger(name, namespace, "kubernetes_default", poll_interval=interval)


def _rebuild(row: list[Any]) -> BaseTrigger:
    """What a triggerer does with a trigger row of the database: import the classpath, pass the kwargs."""
    classpath, kwargs = row
    module, _, name = classpath.rpartition(".")
    trigger: BaseTrigger = getattr(importlib.import_module(module), name)(**kwargs)
    return trigger


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


def _triggers(go: dict[str, Any], mode: str, interval: float) -> list[BaseTrigger]:
    if "rows" in go:  # a restarted triggerer: the waits still deferred, as serialized
        return [_rebuild(row) for row in go["rows"]]
    rng = random.Random(7)
    return [
        _watch_trigger(ns, n, interval)
        if mode == "watch"
        else _polling_trigger(ns, n, interval, rng.uniform(0, interval))
        for ns, n in go["waits"]
    ]


def _client(mode: str, interval: float, trace: bool) -> int:
    from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook

    # Loaded before the measurement starts: the trigger modules and the whole request path.
    _ = _watch_trigger(NAMESPACE, "warmup", interval), _polling_trigger(NAMESPACE, "warmup", interval, 0.0)

    async def main() -> dict[str, Any]:
        assert await AsyncSparkOperatorHook(conn_id="kubernetes_default").get_application("warmup", NAMESPACE) is None
        loop = asyncio.get_running_loop()
        _send(sys.stdout, {"ready": True, "rss_kb": _rss_kb()})
        go = _receive(await loop.run_in_executor(None, sys.stdin.readline))
        if not go:
            return {}
        triggers = _triggers(go, mode, interval)
        if go.get("serialize"):
            _send(sys.stdout, {"rows": [t.serialize() for t in triggers]})
        sampler = Sampler(len(triggers), trace)

        async def wait_one(trigger: BaseTrigger) -> None:
            async for event in trigger.run():
                name = str(getattr(trigger, "name", "?"))
                _send(sys.stdout, {"event": [name, time.time(), _last_state(dict(event.payload))]})
                sampler.waiting -= 1
                return

        tasks = [asyncio.create_task(wait_one(t)) for t in triggers]
        _send(sys.stdout, {"resumed": time.time()})
        del triggers
        steady = go.get("steady_start") is not None
        sampling = asyncio.create_task(sampler.steady(go["steady_start"], go["steady_end"])) if steady else None
        peaker = asyncio.create_task(sampler.peak())
        _, pending = await asyncio.wait(tasks, timeout=max(go["give_up"] - time.time(), 1.0))
        for task in pending:
            task.cancel()
        if pending:  # a saturated loop may take long to unwind them: do not wait for more than 10 s
            await asyncio.wait(pending, timeout=10)
        failures = [repr(t.exception()) for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
        peaker.cancel()
        if sampling is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sampling, timeout=max(go["steady_end"] - time.time(), 0) + 5)
        return {
            "done": {
                "timed_out": len(pending),
                "failures": failures[:5],
                "failed": len(failures),
                "end_kb": _rss_kb(),
            }
        }

    loop = asyncio.new_event_loop()
    _send(sys.stdout, loop.run_until_complete(main()))
    os._exit(0)  # leave what a saturated loop has not unwound yet


class Sampler:
    """The client's own figures in the steady window: RSS growth per wait, CPU, waits still waiting."""

    def __init__(self, waits: int, trace: bool) -> None:
        if trace:
            import tracemalloc

            tracemalloc.start(1)
        gc.collect()
        self.waits = self.waiting = waits
        self.trace = trace
        self.trace_before = _trace_snapshot(trace)
        before_kb = _rss_kb()
        self.samples: dict[str, Any] = {"before_kb": before_kb, "peak_kb": before_kb}

    async def steady(self, start: float, end: float) -> None:
        """Sample at the window's start, middle and end; send the samples at its end."""
        samples = self.samples
        await asyncio.sleep(max(start - time.time(), 0))
        samples["cpu_start"], samples["waiting_at_start"] = _cpu_s(), self.waiting
        await asyncio.sleep(max((start + end) / 2 - time.time(), 0))
        gc.collect()
        samples["waiting_kb"], samples["waiting"] = _rss_kb(), self.waiting
        samples["trimmed_kb"] = _trimmed_rss_kb()
        samples.update(_trace_diff(self.trace, self.trace_before, self.waits))
        await asyncio.sleep(max(end - time.time(), 0))
        samples["cpu_end"], samples["waiting_at_end"] = _cpu_s(), self.waiting
        _send(sys.stdout, {"samples": samples})

    async def peak(self) -> None:
        while True:
            self.samples["peak_kb"] = max(self.samples["peak_kb"], _rss_kb())
            await asyncio.sleep(0.5)


def _trimmed_rss_kb() -> int:
    """RSS once glibc has handed its free heap back (`malloc_trim(0)`): what RSS holds beyond that is
    live memory, the rest is heap that allocations of pod and node reads freed but fragmented."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return _rss_kb()


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


@dataclass(frozen=True)
class Timeline:
    """How many waits over how many namespaces, and when things happen (seconds from t0)."""

    waits: int
    namespaces: int
    settle: float
    steady: float
    spread: float

    @property
    def completions(self) -> float:
        return self.settle + self.steady + 5.0


BASELINE_TIMELINE = (20.0, 30.0, 60.0)
"""settle, steady and spread of the polling baseline (the first round's, at 1,000 waits)."""


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
    duplicates: int
    failed: int
    rss_before_kb: int
    rss_waiting_kb: int
    rss_trimmed_kb: int
    rss_peak_kb: int
    waiting_at_sample: int
    cpu_steady_s: float
    traced_kb_per_wait: float | None
    traced_top: list[list[Any]]
    wall_s: float
    faults: dict[str, Any] = field(default_factory=dict)
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


def _plan(timeline: Timeline, seed: int) -> list[list[Any]]:
    """[namespace, name, pending_for, run_for]: terminal times spread evenly over the completion phase."""
    rng = random.Random(seed)
    order = list(range(timeline.waits))
    rng.shuffle(order)
    plan = []
    for (namespace, name), slot in zip(_waits(timeline.waits, timeline.namespaces), order, strict=True):
        pending = rng.uniform(1.0, 5.0)
        end = timeline.completions + timeline.spread * (slot + 0.5) / timeline.waits
        # Driver pending, then executors start 1 s after the driver (see tests/kubeapi/cluster.py), then run_for.
        plan.append([namespace, name, round(pending, 3), round(end - pending - 1.0, 3)])
    return plan


def _counters(server: Child) -> tuple[float, dict[str, int], int]:
    reply = server.request({"cmd": "counters"})
    return reply["time"], {f"{v} {r}": n for v, r, n in reply["counters"]}, reply["app_writes"]


def _sleep_until(when: float) -> None:
    time.sleep(max(when - time.time(), 0.0))


def _lists(counts: dict[str, int]) -> int:
    return counts.get("list sparkapplications", 0)


def _run_mode(
    mode: str, timeline: Timeline, server: Child, client: Child, successor: Child | None, args: argparse.Namespace
) -> ModeResult:
    """One mode's run; with a `successor`, the 410 of every watch and the triggerer restart happen in it."""
    started = time.monotonic()
    plan = _plan(timeline, args.seed)
    created = server.request({"cmd": "create", "apps": plan})
    # Each run's times count from its own create: the steady window from the first, the give-up from the last.
    t0 = created["t0"]
    steady_start, steady_end = t0 + timeline.settle, t0 + timeline.settle + timeline.steady
    give_up = created["created"] + timeline.completions + timeline.spread + 30.0
    client.send(
        {
            "waits": [[namespace, name] for namespace, name, _, _ in plan],
            "steady_start": steady_start,
            "steady_end": steady_end,
            "give_up": give_up,
            "serialize": successor is not None,
        }
    )
    rows = client.read()["rows"] if successor is not None else []
    client.read()  # resumed: every trigger runs
    _sleep_until(steady_start)
    at0, counts0, writes0 = _counters(server)
    _sleep_until(steady_end)
    at1, counts1, writes1 = _counters(server)
    samples = client.read()["samples"]
    faults: dict[str, Any] = {}
    marks: dict[str, float] = {}
    if successor is not None:
        marks, finished = _expire_then_restart(timeline, t0, server, client, successor, rows, give_up, faults)
    else:
        finished = client.read()["done"]
    _, counts, _ = _counters(server)
    terminal = server.request({"cmd": "terminal"})["terminal"]
    events = client.events + (successor.events if successor is not None else [])
    states: dict[str, int] = {}
    seen: set[str] = set()
    by_phase: dict[str, list[float]] = {phase: [] for phase in PHASES}
    for name, at, state in events:
        states[state] = states.get(state, 0) + 1
        seen.add(name)
        if name in terminal:
            by_phase[_phase(terminal[name][1], marks)].append(at - terminal[name][1])
    delays = [d for phase, ds in by_phase.items() if phase != PHASES[2] for d in ds]
    if successor is not None:
        for phase, ds in by_phase.items():
            ordered = sorted(ds)
            p99 = ordered[round(0.99 * (len(ordered) - 1))] if ordered else float("nan")
            faults[f"ended {phase}: runs, delay p99 / max (s)"] = f"{len(ds)}, {p99:.3f} / {max(ds, default=0):.3f}"
    notes = [f"{finished['timed_out']} waits still waiting at the give-up"] if finished["timed_out"] else []
    if samples["waiting_at_start"] != timeline.waits or samples["waiting_at_end"] != timeline.waits:
        notes.append(
            f"not all waiting in the steady window ({samples['waiting_at_start']}, {samples['waiting_at_end']})"
        )
    if writes1 != writes0:
        notes.append(f"{writes1 - writes0} application writes in the steady window")
    return ModeResult(
        mode=mode,
        waits=timeline.waits,
        steady_s=at1 - at0,
        steady_requests=sum(counts1.values()) - sum(counts0.values()),
        steady_app_writes=writes1 - writes0,
        total_requests=sum(counts.values()),
        by_request=dict(sorted(counts.items(), key=lambda kv: -kv[1])),
        delays=delays,
        states=states,
        missing=timeline.waits - len(seen),
        duplicates=len(events) - len(seen),
        failed=finished["failed"],
        rss_before_kb=samples["before_kb"],
        rss_waiting_kb=samples.get("waiting_kb", samples["before_kb"]),
        rss_trimmed_kb=samples.get("trimmed_kb", samples["before_kb"]),
        rss_peak_kb=samples["peak_kb"],
        waiting_at_sample=samples.get("waiting", 0),
        cpu_steady_s=samples.get("cpu_end", 0.0) - samples.get("cpu_start", 0.0),
        traced_kb_per_wait=samples.get("traced_kb_per_wait"),
        traced_top=samples.get("traced_top", []),
        wall_s=time.monotonic() - started,
        faults=faults,
        notes=notes + [f"failure: {f}" for f in finished["failures"]],
    )


PHASES = ("before the 410", "between the 410 and the restart", "in the restart gap", "after the restart")


def _phase(ended: float, marks: dict[str, float]) -> str:
    """Which part of the run a terminal state fell in (all `before the 410` in a run without faults)."""
    if ended < marks.get("410", math.inf):
        return PHASES[0]
    if ended < marks["killed"]:
        return PHASES[1]
    return PHASES[2] if ended <= marks["resumed"] else PHASES[3]


def _expire_then_restart(
    timeline: Timeline,
    t0: float,
    server: Child,
    client: Child,
    successor: Child,
    rows: list[Any],
    give_up: float,
    faults: dict[str, Any],
) -> tuple[dict[str, float], dict[str, Any]]:
    """A third of the way through the completions, 410 on every watch; two thirds, the triggerer dies
    and `successor` takes over the waits that had not fired. Returns when each happened, and the result."""
    _sleep_until(t0 + timeline.completions + timeline.spread / 3)
    _, before, _ = _counters(server)
    expired_at = time.time()
    faults["watches ended with 410"] = server.request({"cmd": "expire"})["expired"]
    _sleep_until(t0 + timeline.completions + 2 * timeline.spread / 3)
    _, after, _ = _counters(server)
    faults["lists after the 410 (pages)"] = _lists(after) - _lists(before)
    faults["requests after the 410, until the restart"] = sum(after.values()) - sum(before.values())
    killed_at = time.time()
    client.kill()
    fired = {event[0] for event in client.events}
    remaining = [row for row in rows if row[1]["name"] not in fired]
    successor.send({"rows": remaining, "give_up": give_up})
    resumed_at = successor.read()["resumed"]
    faults["waits resumed by the new triggerer"] = len(remaining)
    faults["restart gap (s)"] = round(resumed_at - killed_at, 2)
    return {"410": expired_at, "killed": killed_at, "resumed": resumed_at}, successor.read()["done"]


def _report(results: list[ModeResult], args: argparse.Namespace) -> None:
    watch, poll = (next(r for r in results if r.mode == m) for m in MODES)
    scale = watch.waits / poll.waits

    def row(label: str, fmt: str, get: Any, goal: str = "", ok: Any = None, scaled: bool = False) -> None:
        met = "" if ok is None else ("met" if ok(watch) else "MISSED")
        projected = fmt.format(get(poll) * scale) if scaled else ("" if scale == 1 else "same")
        print(f"| {label} | {fmt.format(get(watch))} | {fmt.format(get(poll))} | {projected} | {goal} | {met} |")

    print(f"\nwatch: {watch.waits} waits over {args.namespaces} namespaces, steady window {args.steady:g} s, ", end="")
    print(f"completions over {args.spread:g} s; polling: {poll.waits} waits; interval {args.interval:g} s", end="")
    print(", SSL context reused (what-if)\n" if args.reuse_ssl_context else "\n")
    print(
        f"| metric | shared watch, {watch.waits:,} waits | per-job polling (cncf-style), {poll.waits:,} waits "
        f"| polling scaled to {watch.waits:,} | goal | watch |"
    )
    print("|---|---|---|---|---|---|")
    row(
        "requests/s at steady state",
        "{:.2f}",
        lambda r: r.steady_rps,
        f"<= {GOAL_RPS:g}",
        lambda r: r.steady_rps <= GOAL_RPS,
        scaled=True,
    )
    row("requests per job (whole run)", "{:.2f}", lambda r: r.total_requests / r.waits)
    row("detection delay p50 (s)", "{:.3f}", lambda r: r.pct(0.5))
    row(
        "detection delay p99 (s)",
        "{:.3f}",
        lambda r: r.pct(0.99),
        f"<= {GOAL_P99_S:g}",
        lambda r: r.pct(0.99) <= GOAL_P99_S,
    )
    row("detection delay max (s)", "{:.3f}", lambda r: max(r.delays, default=float("nan")))
    row(
        "RSS per waiting trigger (KB)",
        "{:.1f}",
        lambda r: r.kb_per_wait,
        f"<= {GOAL_KB:g}",
        lambda r: r.kb_per_wait <= GOAL_KB,
    )
    row("the same after malloc_trim(0) (KB)", "{:.1f}", lambda r: (r.rss_trimmed_kb - r.rss_before_kb) / r.waits)
    if watch.traced_kb_per_wait is not None:
        row("tracemalloc per waiting trigger (KB)", "{:.1f}", lambda r: r.traced_kb_per_wait)
    row("client RSS before / waiting / peak (MB)", "{}", _mb)
    row(
        "client CPU in the steady window (% of a core)",
        "{:.1f}",
        lambda r: 100 * r.cpu_steady_s / r.steady_s,
        f"<= {GOAL_CPU_PCT:g}",
        lambda r: 100 * r.cpu_steady_s / r.steady_s <= GOAL_CPU_PCT,
        scaled=True,
    )
    row("events (last state)", "{}", lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r.states.items())))
    row(
        "missing / duplicate / failed waits",
        "{}",
        lambda r: f"{r.missing} / {r.duplicates} / {r.failed}",
        "0 / 0 / 0",
        lambda r: r.missing == r.duplicates == r.failed == 0,
    )
    row(
        "SparkApplications created by the triggers",
        "{}",
        lambda r: r.by_request.get("create sparkapplications", 0),
        "0",
        lambda r: r.by_request.get("create sparkapplications", 0) == 0,
    )
    row("wall time of the mode (s)", "{:.0f}", lambda r: r.wall_s)
    for label, value in watch.faults.items():
        print(f"| {label} | {value} | | | | |")
    for r in results:
        print(f"\n{r.mode}: requests by verb and resource: {r.by_request}")
        if r.traced_top:
            print(f"{r.mode}: tracemalloc growth per waiting trigger, KB, by line: {r.traced_top}")
        for note in r.notes:
            print(f"{r.mode}: NOTE {note}")


def _mb(r: ModeResult) -> str:
    return f"{r.rss_before_kb / 1024:.0f} / {r.rss_waiting_kb / 1024:.0f} / {r.rss_peak_kb / 1024:.0f}"


def _timelines(args: argparse.Namespace) -> dict[str, Timeline]:
    return {
        "watch": Timeline(args.waits, args.namespaces, args.settle, args.steady, args.spread),
        "poll": Timeline(args.baseline_waits, args.namespaces, *BASELINE_TIMELINE),
    }


@contextlib.contextmanager
def _children(args: argparse.Namespace, env: dict[str, str]) -> Iterator[dict[str, list[Child]]]:
    """Per mode: its server, its client and (watch, unless `--no-faults`) the client that takes over
    after the restart, all started together (a client's imports take ~20 s)."""
    started: list[Child] = []
    try:
        servers = {}
        for mode in MODES:
            servers[mode] = Child("server", [], env)
            started.append(servers[mode])
        children: dict[str, list[Child]] = {}
        for mode in MODES:
            info = servers[mode].read()
            client_env = {**env, "AIRFLOW_CONN_KUBERNETES_DEFAULT": info["connection"]}
            extra = ["--mode", mode, "--interval", str(args.interval), *(["--tracemalloc"] if args.tracemalloc else [])]
            extra += ["--reuse-ssl-context"] if args.reuse_ssl_context else []
            children[mode] = [servers[mode]]
            for _ in range(2 if mode == "watch" and not args.no_faults else 1):
                client = Child("client", extra, client_env)
                started.append(client)
                children[mode].append(client)
        yield children
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
    timelines = _timelines(args)
    try:
        with _children(args, env) as children:
            for _, *clients in children.values():
                for client in clients:
                    client.read()  # ready: imports done, one warm-up GET made
            results = []
            for mode in MODES:
                server, client, *successor = children[mode]
                print(f"running {mode} ...", file=sys.stderr, flush=True)
                results.append(_run_mode(mode, timelines[mode], server, client, next(iter(successor), None), args))
                for child in children[mode]:
                    child.close()
        return results
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waits", type=int, default=10_000, help="concurrent watch waits (default 10000)")
    parser.add_argument("--namespaces", type=int, default=20, help="namespaces the waits are dealt over (default 20)")
    parser.add_argument(
        "--baseline-waits", type=int, default=1000, help="concurrent polling waits, scaled per wait (default 1000)"
    )
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval, both modes (default 5 s)")
    parser.add_argument("--settle", type=float, default=90.0, help="seconds from t0 to the steady window")
    parser.add_argument("--steady", type=float, default=60.0, help="steady window, seconds (nothing changes)")
    parser.add_argument("--spread", type=float, default=600.0, help="seconds over which the completions spread")
    parser.add_argument(
        "--no-faults", action="store_true", help="no 410 of every watch and no triggerer restart in the watch mode"
    )
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
        return _serve()
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
        _watchdog(3 * 3600)
    raise SystemExit(main())
