"""Worker slot time per job: `SparkOnEksOperator.execute` from its start to `TaskDeferred` (resolve,
render, validate, submit), for 150 tasks started at once (the hourly compaction at the top of the hour,
150 worker slots), per backend, against the test servers.

Run: `.venv/bin/python benchmarks/bench_worker_slot.py [--tasks 150] [--backends ...]`.
Goal (issue 20): p99 <= 1 s on each backend.

The servers are the fault campaign's (`tests/reliability/servers.py`, faults off): the test Kubernetes
API server playing the Spark Operator (bearer tokens, CRD admission when `SPARK_OPERATOR_CRD` names the
pinned CRD) and moto's server for EMR on EKS and EMR Serverless, in their own process, so their CPU is
not the workers'. The worker process is real Airflow (throw-away `AIRFLOW_HOME`, SQLite, connections
from `AIRFLOW_CONN_*`, Variables from `AIRFLOW_VAR_*` through the SDK's secrets backends). Its tasks are
`hourly_compaction`'s: the DAG file is loaded, each task is its `compact_<tier>` operator (same
arguments, the templated profile and backend) with the job its `plan` task makes for one of the 150
tables of the shipped table file. A worker renders the task's templated fields, then calls `execute`;
both are timed (`execute` is the figure of the goal), and each thread's CPU time, so queueing behind
the others (one process, the GIL, two cores) shows apart from the work. One task per backend runs
before the burst (the process's first-use imports and clients are a cold start, not slot time).

Columns, seconds: `execute` p50/p99/max and `render` p99 of the burst; `cpu/task`, each task's thread
CPU; `wall`, the burst from start to the last deferral; `alone`, the same tasks one at a time in the
warm process (slot time without queueing); `cold`, one task per fresh process after parsing the DAG
(what an Airflow 3 task process pays: its backend's first-use imports and clients).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DAG_FILE = ROOT / "dags_examples" / "hourly_compaction.py"
BACKENDS = ("spark_operator", "emr_on_eks", "emr_serverless")
JOB_FILE = "s3://example-artifacts/jobs/compact_table.py"  # the DAG's default `compaction_job_file`
HOUR = datetime(2026, 12, 6, 10, tzinfo=timezone.utc)


def airflow_environment(home: Path) -> None:
    """A throw-away Airflow home with SQLite, as the tests use; set before anything imports airflow."""
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(home / "dags")
    os.environ["AIRFLOW__OPENLINEAGE__DISABLED"] = "True"  # no transport here: lineage is measured elsewhere


def serve(workdir: Path) -> None:
    """Server role: the campaign's servers, faults off; prints what a worker needs, then waits for EOF."""
    airflow_environment(workdir / "airflow")
    from tests.reliability.harness import quiet_logs
    from tests.reliability.servers import ENV_CONNECTIONS, start_servers
    from tests.reliability.truth import TENANTS, make_plans

    plans = make_plans(40, seed=1)
    assert {p.tenant for p in plans} == set(TENANTS), "every tenant needs its virtual cluster and application"
    with (
        quiet_logs(),
        start_servers(plans, workdir, seed=1, error_rate=0.0, speed=20.0, watch_cut_s=3600.0) as servers,
    ):
        env = {name: os.environ[name] for name in ENV_CONNECTIONS}
        print(json.dumps({"env": env, "profile": str(servers.profile_path)}), flush=True)
        sys.stdin.read()


@contextlib.contextmanager
def servers_process(workdir: Path) -> Iterator[dict[str, Any]]:
    """The server role in a child process; yields its connections and profile path."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--role", "server", "--workdir", str(workdir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None and child.stdin is not None
    try:
        line = child.stdout.readline()
        if not line:
            raise RuntimeError("the server process exited before it was ready")
        yield dict(json.loads(line))
    finally:
        child.stdin.close()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def load_dag_module() -> Any:
    """`hourly_compaction.py` imported as a worker parses it (its `job_for`, tier settings and alias)."""
    spec = importlib.util.spec_from_file_location("hourly_compaction_bench", DAG_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Task:
    tier: str
    map_index: int
    job: dict[str, Any]


def tasks_of(dag: Any, count: int) -> list[Task]:
    """The jobs `plan` makes for the hour, one mapped task instance per table, up to `count`."""
    import yaml

    config = yaml.safe_load(dag.DEFAULT_TABLES.read_text())
    tables = config["tables"]
    out: list[Task] = []
    for tier in dag.TIERS:
        rows = [t for t in tables if t["tier"] == tier]
        for map_index, row in enumerate(rows):
            hour = HOUR.strftime("%Y-%m-%dT%H")
            job = dag.job_for(row["name"], config["tiers"][tier], hour, "s3a://example-lake", JOB_FILE)
            out.append(Task(tier, map_index, job))
    while len(out) < count:  # more than the table file has: further hours of the same tables
        out.append(out[len(out) % len(tables)])
    return out[:count]


class TaskInstance:
    """What the operator reads of `context["ti"]` (the reliability harness's, one try)."""

    def __init__(self, dag_id: str, task_id: str, run_id: str, map_index: int) -> None:
        self.dag_id, self.task_id, self.run_id, self.map_index, self.try_number = dag_id, task_id, run_id, map_index, 1
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def context_for(task_id: str, run_id: str, map_index: int) -> Any:
    """The template context the DAG's fields use (`var`, dates), and what `execute` reads."""
    from airflow.sdk.execution_time.context import VariableAccessor

    ti = TaskInstance("hourly_compaction", task_id, run_id, map_index)
    return {
        "ti": ti,
        "task_instance": ti,
        "run_id": run_id,
        "map_index": map_index,
        "logical_date": HOUR,
        "data_interval_start": HOUR,
        "params": {},
        "var": {"value": VariableAccessor(deserialize_json=False), "json": VariableAccessor(deserialize_json=True)},
        "outlet_events": {},
    }


@dataclass
class Sample:
    render_s: float
    execute_s: float
    cpu_s: float
    trigger: str


def build(dag: Any, task: Task) -> Any:
    """The task's operator, with the arguments of the DAG's `compact_<tier>` partial."""
    from airflow_eks_data.operators.spark_on_eks import SparkOnEksOperator

    settings = dag.TIER_SETTINGS[task.tier]
    return SparkOnEksOperator(
        task_id=f"compact_{task.tier}",
        profile="{{ var.value.get('compaction_profile', 'compaction') }}",
        backend="{{ var.value.get('compaction_backend', 'spark_operator') }}",
        pool=settings["pool"],
        pool_slots=settings["pool_slots"],
        priority_weight=settings["priority_weight"],
        retries=2,
        outlets=[dag.COMPACTED],
        manifest_file="_MANIFEST.json",
        job=task.job,
    )


def run_one(op: Any, run_id: str, map_index: int) -> Sample:
    """Render then execute, as the task runner does, until the operator defers."""
    import contextvars

    from airflow.sdk.bases.operator import ExecutorSafeguard
    from airflow.sdk.exceptions import TaskDeferred

    context = context_for(op.task_id, run_id, map_index)
    scope = contextvars.copy_context()
    scope.run(ExecutorSafeguard.tracker.set, op)  # what the task runner does around execute
    cpu0, t0 = time.thread_time(), time.perf_counter()
    op.render_template_fields(context)
    t1 = time.perf_counter()
    try:
        scope.run(op.execute, context)
    except TaskDeferred as deferred:
        t2 = time.perf_counter()
        return Sample(t1 - t0, t2 - t1, time.thread_time() - cpu0, type(deferred.trigger).__name__)
    raise RuntimeError(f"{op.task_id}[{map_index}] returned without deferring")


def burst(dag: Any, tasks: list[Task], backend: str, hour_tag: str) -> tuple[list[Sample], float]:
    """All tasks started at once, one thread each; (samples, wall seconds from start to the last)."""
    ops = [build(dag, task) for task in tasks]
    gate = threading.Barrier(len(ops) + 1)
    samples: list[Sample | BaseException | None] = [None] * len(ops)

    def worker(i: int) -> None:
        gate.wait()
        try:
            samples[i] = run_one(ops[i], f"scheduled__{hour_tag}-{backend}", i)
        except BaseException as exc:  # reported below, with the others
            samples[i] = exc

    threads = [threading.Thread(target=worker, args=(i,), name=f"slot-{i}") for i in range(len(ops))]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    gate.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    errors = [s for s in samples if not isinstance(s, Sample)]
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(ops)} tasks failed on {backend}; first: {errors[0]!r}")
    return [s for s in samples if isinstance(s, Sample)], wall


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def cold_role(backend: str, index: int) -> None:
    """Cold role: one task in a fresh process, as an Airflow 3 task process runs it: the DAG file parsed
    first, then `execute`, which pays this backend's first-use imports and clients."""
    from tests.reliability.harness import quiet_logs

    dag = load_dag_module()
    task = tasks_of(dag, index + 1)[index]
    with quiet_logs():
        sample = run_one(build(dag, task), f"cold-{backend}", index)
    print(json.dumps({"execute_s": sample.execute_s, "render_s": sample.render_s}))


def cold(backend: str, runs: int, pycache: Path | None) -> list[float]:
    """`runs` fresh processes, one task each (the environment is this worker's). `pycache`: a bytecode
    cache (`PYTHONPYCACHEPREFIX`), filled by one unmeasured run first, as an installed image ships
    compiled modules; None: every module compiled from source in every process."""
    env = dict(os.environ)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    times = []
    for index in range(runs + (pycache is not None and runs > 0)):
        done = subprocess.run(
            [sys.executable, __file__, "--role", "cold", "--cold-task", f"{backend}:{index}"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            env=env,
        )
        if done.returncode:
            raise RuntimeError(f"cold task failed on {backend}:\n{done.stderr[-4000:]}")
        times.append(float(json.loads(done.stdout.strip().splitlines()[-1])["execute_s"]))
    return times[-runs:] if runs else []


def worker_role(args: argparse.Namespace, servers: dict[str, Any], home: Path) -> None:
    """Worker role: this process is the 150 worker slots."""
    os.environ.update(servers["env"])
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    profiles = home / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    shutil.copy(servers["profile"], profiles / "compaction.yaml")
    os.environ["AIRFLOW__EKS_DATA__PROFILES_DIR"] = str(profiles)
    os.environ["AIRFLOW_VAR_COMPACTION_PROFILE"] = "compaction"
    from tests.reliability.botodata import shared_loader_cache
    from tests.reliability.harness import quiet_logs

    dag = load_dag_module()
    tasks = tasks_of(dag, args.tasks)
    print(
        f"{args.tasks} tasks at once per backend ({len({t.job['name'] for t in tasks})} tables of "
        f"hourly_compaction); seconds",
        flush=True,
    )
    head = (
        f"{'backend':<15} {'execute p50':>11} {'p99':>7} {'max':>7} {'render p99':>10} "
        f"{'cpu/task p50':>12} {'wall':>9} {'alone p50':>10} {'alone max':>9} {'cold p50':>9} {'cold max':>8}  trigger"
    )
    print(head, flush=True)
    results: dict[str, Any] = {}
    if args.profile:
        with quiet_logs():
            profile(dag, tasks, args.backends, args.profile)
        return
    shared = shared_loader_cache() if args.shared_botocore_data else contextlib.nullcontext()
    with quiet_logs(), shared:
        for backend in args.backends:
            os.environ["AIRFLOW_VAR_COMPACTION_BACKEND"] = backend
            run_one(build(dag, tasks[0]), f"warmup-{backend}", 10_000)  # first use of this backend's clients
            samples, wall = burst(dag, tasks, backend, HOUR.strftime("%Y-%m-%dT%H"))
            fresh = cold(backend, args.cold, None if args.cold_no_bytecode else home.parent / "pycache")
            alone = [
                run_one(build(dag, task), f"alone-{backend}", i).execute_s
                for i, task in enumerate(tasks[: args.sequential])
            ]
            execute = [s.execute_s for s in samples]
            triggers = sorted({s.trigger for s in samples})
            row: dict[str, Any] = {
                "p50": statistics.median(execute),
                "p99": pct(execute, 0.99),
                "max": max(execute),
                "render_p99": pct([s.render_s for s in samples], 0.99),
                "cpu_p50": statistics.median(s.cpu_s for s in samples),
                "wall": wall,
                "alone_p50": statistics.median(alone) if alone else None,
                "alone_max": max(alone) if alone else None,
                "cold_p50": statistics.median(fresh) if fresh else None,
                "cold_max": max(fresh) if fresh else None,
                "triggers": triggers,
            }
            results[backend] = row
            print(
                f"{backend:<15} {row['p50']:>11.3f} {row['p99']:>7.3f} {row['max']:>7.3f} {row['render_p99']:>10.3f} "
                f"{row['cpu_p50']:>12.3f} {wall:>9.2f} {_num(row['alone_p50']):>10} {_num(row['alone_max']):>9} "
                f"{_num(row['cold_p50']):>9} {_num(row['cold_max']):>8}  "
                f"{','.join(triggers)}",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def profile(dag: Any, tasks: list[Task], backends: list[str], top: int) -> None:
    """Each backend's tasks one after another under cProfile (threads would hide in the GIL's queue):
    where a task's own time goes, by cumulative time."""
    import cProfile
    import pstats

    for backend in backends:
        os.environ["AIRFLOW_VAR_COMPACTION_BACKEND"] = backend
        run_one(build(dag, tasks[0]), f"warmup-{backend}", 10_000)
        ops = [build(dag, task) for task in tasks]
        profiler = cProfile.Profile()
        profiler.enable()
        for i, op in enumerate(ops):
            run_one(op, f"profile-{backend}", i)
        profiler.disable()
        print(f"\n== {backend}: {len(ops)} tasks in sequence")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=150, help="tasks started at once per backend (default 150)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument(
        "--sequential",
        type=int,
        default=20,
        metavar="N",
        help="after each burst, N tasks one at a time: the slot time without queueing (default 20)",
    )
    parser.add_argument(
        "--cold",
        type=int,
        default=5,
        metavar="N",
        help="per backend, N tasks each in a fresh process (first-use imports and clients; default 5)",
    )
    parser.add_argument(
        "--cold-no-bytecode",
        action="store_true",
        help="cold tasks compile every module from source (default: a bytecode cache, as an image ships)",
    )
    parser.add_argument(
        "--shared-botocore-data",
        action="store_true",
        help="what-if: botocore's parsed data shared between sessions (the campaign's test-only patch)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--profile", type=int, metavar="TOP", help="instead: run the tasks in sequence under cProfile, print TOP rows"
    )
    parser.add_argument("--role", choices=("worker", "server", "cold"), default="worker", help=argparse.SUPPRESS)
    parser.add_argument("--cold-task", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "server":
        serve(Path(args.workdir))
        return
    if args.role == "cold":
        backend, index = args.cold_task.split(":")
        cold_role(backend, int(index))
        return
    print(f"{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%F %T %Z')}")
    with tempfile.TemporaryDirectory(prefix="bench-slot-") as scratch:
        home = Path(scratch) / "airflow"
        airflow_environment(home)
        with servers_process(Path(scratch) / "servers") as servers:
            worker_role(args, servers, home)


if __name__ == "__main__":
    main()
