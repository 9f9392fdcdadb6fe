"""The services a campaign runs against, with its faults switched on and its script loaded.

- the test Kubernetes API server (`tests/kubeapi`): bearer tokens (so they can expire), CRD admission
  when the pinned CRD is there, 429/500/503 at the campaign's rate, watch streams cut every few
  seconds, and every application's attempts scripted by name from the plans;
- moto's EMR on EKS and EMR Serverless (`tests/emr`), one server for both: one virtual cluster and one
  application per tenant (one application left CREATED, for the operator to start), the pod-template
  bucket, the same rate of 429/500/503 on every call, and a `JobRunPlayer` per service moving each job
  run as its plan says. With `emr_queue`, each virtual cluster has a scheduler configuration: runs wait
  SUBMITTED until a slot is free, and StartJobRun on a full queue is refused as the service does.

Both only record here (creations, injected faults); the campaign judges.
"""

from __future__ import annotations

import collections
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from airflow_eks_data.backends.base import ATTEMPT_MARK, TASK_KEY_MARK, TRY_MARK
from airflow_eks_data.outcomes.states import SPARK_APPLICATION
from airflow_eks_data.triggers.events import app_state
from tests.conftest import PROFILE_PATH
from tests.emr.faults import Faults as EmrFaults
from tests.emr.fixtures import NO_BOTOCORE_RETRIES, create_virtual_cluster
from tests.emr.moto_emr import REGION, EmrMoto, quiet_werkzeug
from tests.emr.moto_serverless import ServerlessMoto
from tests.kubeapi.faults import Decision, Faults
from tests.kubeapi.fixtures import crd_path
from tests.kubeapi.resources import ResourceType
from tests.kubeapi.scenarios import DriverError, NodeLost, Outcome, PendingCapacity, SpotInterruption, Succeed
from tests.kubeapi.server import KubeApiServer
from tests.kubeapi.store import Change
from tests.reliability.truth import Fate, JobPlan

Step = tuple[str, str | None, str | None]
"""A state to move a run to, with its failure reason and state details."""


@dataclass(frozen=True)
class Service:
    """How one AWS service reports each fate: the states a run passes through and how it ends."""

    name: str
    active: frozenset[str]
    pending: str
    """The state of a run waiting for capacity."""
    running: tuple[str, ...]
    """The states of a run that got its capacity, in order."""
    ends: dict[Fate, Step]


EMR_ON_EKS = Service(
    "emr_on_eks",
    frozenset({"PENDING", "SUBMITTED", "RUNNING", "CANCEL_PENDING"}),
    "PENDING",
    ("RUNNING",),
    {
        Fate.SUCCEED: ("COMPLETED", None, None),
        # EMR has no failure reason for spot loss: a USER_ERROR whose details name the eviction.
        Fate.SPOT: ("FAILED", "USER_ERROR", "Driver pod was evicted: spot node terminated (SpotInterrupted)"),
        Fate.NODE_LOST: ("FAILED", "INTERNAL_ERROR", "The driver's node was lost"),
        Fate.USER_ERROR: (
            "FAILED",
            "USER_ERROR",
            "Jobrun failed. Main Spark container terminated with errors. ExitCode: 1",
        ),
    },
)
EMR_SERVERLESS = Service(
    "emr_serverless",
    frozenset({"SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "QUEUED", "CANCELLING"}),
    "PENDING",
    ("SCHEDULED", "RUNNING"),
    {
        Fate.SUCCEED: ("SUCCESS", None, None),
        # No spot on EMR Serverless: the service loses capacity or workers, and says so in words.
        Fate.SPOT: ("FAILED", None, "Job failed: insufficient capacity to keep the job's workers running"),
        Fate.NODE_LOST: ("FAILED", None, "Job failed: the driver's worker was lost (host unreachable)"),
        Fate.USER_ERROR: (
            "FAILED",
            None,
            "Job failed, please check complete logs in configured logging destination. ExitCode: 1. "
            "Last few exceptions: ValueError: no such table",
        ),
    },
)


class JobRunPlayer:
    """Plays one AWS service for moto: each new job run, found by its task-key and attempt tags, waits
    for a queue slot (`admit`), goes `pending` while capacity is short, then running, then ends as its
    attempt's fate says."""

    def __init__(
        self,
        service: Service,
        runs: Callable[[], list[Any]],
        move: Callable[[str, str, str | None, str | None], None],
        plans: dict[str, JobPlan],
        admit: Callable[[str], bool] = lambda run_id: True,
    ) -> None:
        self.service, self.runs, self.move, self.admit = service, runs, move, admit
        self.plans = plans
        self.schedules: dict[str, list[tuple[float, Step]]] = {}
        self.queued = 0
        """Runs that waited for a queue slot."""
        self.error: str | None = None
        """Why the player stopped early (the campaign reports it: its runs would hang)."""
        self._waiting: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"{service.name}-player", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        try:
            self._play()
        except Exception as exc:  # reported by the campaign, not lost in a thread
            self.error = f"{type(exc).__name__}: {exc}"

    def _play(self) -> None:
        while not self._stop.wait(0.05):
            now = time.monotonic()
            for run in sorted(self.runs(), key=lambda run: run.created_at):  # the queue is first in, first out
                if run.id not in self.schedules:
                    if not self.admit(run.id):
                        self.queued += run.id not in self._waiting
                        self._waiting.add(run.id)
                        continue
                    self.schedules[run.id] = self._schedule(run.tags or {}, now)
                steps = self.schedules[run.id]
                while steps and steps[0][0] <= now:
                    _, (state, reason, details) = steps.pop(0)
                    if run.state not in self.service.active:  # cancelled by the operator: nothing more happens
                        steps.clear()
                        break
                    self.move(run.id, state, reason, details)

    def _schedule(self, tags: dict[str, str], now: float) -> list[tuple[float, Step]]:
        plan = self.plans.get(tags.get(TASK_KEY_MARK, ""))
        if plan is None:  # not the campaign's: let it succeed, the ledger reports it
            return [(now + 1.0, self.service.ends[Fate.SUCCEED])]
        script = plan.script(int(tags.get(ATTEMPT_MARK, 1)))
        steps: list[tuple[float, Step]] = []
        if script.pending_s:
            steps.append((now, (self.service.pending, None, None)))
        steps += [(now + script.pending_s, (state, None, None)) for state in self.service.running]
        return [*steps, (now + script.pending_s + script.run_s, self.service.ends[script.fate])]


ENV_CONNECTIONS = ("AIRFLOW_CONN_KUBERNETES_DEFAULT", "AIRFLOW_CONN_AWS_DEFAULT")
AWS_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


class CountingFaults(Faults):
    """The kube API server's fault switches, counting the errors they inject by status."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.injected: collections.Counter[int] = collections.Counter()

    def decide(self, verb: str, resource: str) -> Decision:
        decision = super().decide(verb, resource)
        if decision.error is not None:
            self.injected[decision.error.code] += 1
        return decision


@dataclass(frozen=True)
class Created:
    """One run as the server saw it created, with the identity the operator gave it; `name` is what
    the operator calls the run (application name, or EMR job run id)."""

    key: str
    try_number: int
    attempt: int
    name: str


@dataclass
class Ledger:
    """Every SparkApplication the API server created (a store listener: no request is counted)."""

    created: list[Created] = field(default_factory=list)

    def listen(self, rtype: ResourceType, change: Change) -> None:
        if rtype.plural != "sparkapplications" or change.type != "ADDED":
            return
        meta = change.obj["metadata"]
        labels = meta.get("labels") or {}
        self.created.append(
            Created(
                str(labels.get(TASK_KEY_MARK, "")),
                int(labels.get(TRY_MARK, 0)),
                int(labels.get(ATTEMPT_MARK, 0)),
                str(meta["name"]),
            )
        )


def so_outcome(plan: JobPlan, attempt: int, speed: float) -> Outcome:
    """The simulated Spark Operator's scenario for one attempt (times are simulated seconds)."""
    script = plan.script(attempt)
    run_for = script.run_s * speed
    if script.fate is Fate.SPOT:
        return SpotInterruption(run_for=run_for)
    if script.fate is Fate.NODE_LOST:
        return NodeLost(run_for=run_for, unknown_for=3.0 if attempt % 2 else 0.0)
    if script.fate is Fate.USER_ERROR:
        return DriverError(run_for=run_for)
    if script.pending_s:
        return PendingCapacity(run_for=run_for, provision_after=script.pending_s * speed)
    return Succeed(run_for=run_for)


@dataclass
class Servers:
    kube: KubeApiServer
    emr: ServerlessMoto
    players: dict[str, JobRunPlayer]
    ledger: Ledger
    profile_path: Path
    virtual_clusters: dict[str, str]
    applications: dict[str, str]

    @property
    def kube_faults(self) -> CountingFaults:
        assert isinstance(self.kube.faults, CountingFaults)
        return self.kube.faults

    def aws_runs(self, backend: str) -> list[Any]:
        """Every job run of one AWS backend, read from moto's state (not through the API)."""
        if backend == EMR_SERVERLESS.name:
            return self.emr.job_runs()
        return list(self.emr.backend.job_runs.values())

    def aws_created(self) -> list[Created]:
        return [
            Created(
                str((run.tags or {}).get(TASK_KEY_MARK, "")),
                int((run.tags or {}).get(TRY_MARK, 0)),
                int((run.tags or {}).get(ATTEMPT_MARK, 0)),
                str(run.id),
            )
            for backend in AWS_SERVICES
            for run in self.aws_runs(backend)
        ]

    def still_running(self, plan: JobPlan) -> list[str]:
        """This task's runs that have not ended (read from the servers' state, not through the API)."""
        if plan.backend in AWS_SERVICES:
            active = AWS_SERVICES[plan.backend].active
            return [
                str(run.id)
                for run in self.aws_runs(plan.backend)
                if (run.tags or {}).get(TASK_KEY_MARK) == plan.key and run.state in active
            ]
        apps = self.kube.list("SparkApplication", plan.tenant, label_selector=f"{TASK_KEY_MARK}={plan.key}")
        return [
            str(app["metadata"]["name"])
            for app in apps
            if app_state(app) not in SPARK_APPLICATION.terminal and not app["metadata"].get("deletionTimestamp")
        ]

    def all_running(self) -> list[str]:
        """Every run on any service that has not ended."""
        aws = [
            str(run.id)
            for backend, service in AWS_SERVICES.items()
            for run in self.aws_runs(backend)
            if run.state in service.active
        ]
        apps = self.kube.list("SparkApplication")
        return aws + [str(a["metadata"]["name"]) for a in apps if app_state(a) not in SPARK_APPLICATION.terminal]


AWS_SERVICES = {service.name: service for service in (EMR_ON_EKS, EMR_SERVERLESS)}


@contextmanager
def start_servers(
    plans: list[JobPlan],
    workdir: Path,
    *,
    seed: int,
    error_rate: float,
    speed: float,
    watch_cut_s: float,
    emr_queue: dict[str, int] | None = None,
) -> Iterator[Servers]:
    """The services up, faults on, the plans' scripts loaded, and the Airflow connections in the
    environment (restored afterwards). `emr_queue`: every virtual cluster's `schedulerConfiguration`."""
    from moto.emrcontainers.models import emrcontainers_backends
    from moto.emrserverless.models import emrserverless_backends
    from moto.s3.models import s3_backends

    kube = KubeApiServer(speed=speed, crd_path=crd_path(), token_auth=True, seed=seed, workdir=workdir / "kubeapi")
    kube.faults = CountingFaults(seed)
    kube.start()
    quiet_werkzeug()
    emrcontainers_backends.reset()
    emrserverless_backends.reset()
    s3_backends.reset()
    emr = ServerlessMoto(EmrFaults())
    emr.start()
    saved = {name: os.environ.get(name) for name in (*ENV_CONNECTIONS, *AWS_ENV)}
    players: dict[str, JobRunPlayer] = {}
    try:
        ledger = Ledger()
        kube.call(lambda: kube.store.listeners.append(ledger.listen))
        for plan in plans:
            if plan.backend == "spark_operator":
                for try_number in range(1, plan.retries + 2):
                    for attempt in range(1, len(plan.attempts) + plan.budget + 2):
                        kube.script(plan.run_name(try_number, attempt), so_outcome(plan, attempt, speed))
        tenants = sorted({p.tenant for p in plans})
        clusters = {tenant: create_virtual_cluster(emr, tenant) for tenant in tenants}
        for cluster in clusters.values() if emr_queue else ():
            emr.set_scheduler(cluster, emr_queue)  # type: ignore[arg-type]
        # The first tenant's application is left CREATED: the operator must start it before submitting.
        applications = {
            tenant: emr.create_application("CREATED" if n == 0 else "STARTED", name=tenant)
            for n, tenant in enumerate(tenants)
        }
        emr.client("s3").create_bucket(
            Bucket="example-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        for cluster in clusters.values():  # warm moto's model caches before the first burst of workers
            emr.client("emr-containers").list_job_runs(virtualClusterId=cluster)
        for application in applications.values():
            emr.client("emr-serverless").list_job_runs(applicationId=application)
        profile_path = write_profile(workdir / "profile.yaml", clusters, applications)
        os.environ["AIRFLOW_CONN_KUBERNETES_DEFAULT"] = kube.airflow_connection_json()
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = emr.connection_json(**NO_BOTOCORE_RETRIES)
        for name in AWS_ENV:
            os.environ.pop(name, None)
        share = 1.0 - (1.0 - error_rate) ** (1 / 3)  # three independent rules: error_rate in all
        faults = kube.faults
        faults.throttle(rate=share, retry_after=1)
        faults.error(500, rate=share)
        faults.error(503, rate=share)
        faults.cut_watches(after_seconds=watch_cut_s)
        emr.faults.configure(error_rate, ("throttle", "500", "503"), seed=seed)
        emr.faults.reset_counts()
        kube.counters.reset()
        by_backend = {name: {p.key: p for p in plans if p.backend == name} for name in AWS_SERVICES}
        players = {
            EMR_ON_EKS.name: JobRunPlayer(
                EMR_ON_EKS,
                lambda: list(emr.backend.job_runs.values()),
                functools.partial(EmrMoto.set_state, emr),  # ServerlessMoto's own set_state moves its runs
                by_backend[EMR_ON_EKS.name],
                emr.admit,
            ),
            EMR_SERVERLESS.name: JobRunPlayer(
                EMR_SERVERLESS, emr.job_runs, emr.set_state, by_backend[EMR_SERVERLESS.name]
            ),
        }
        for player in players.values():
            player.start()
        yield Servers(kube, emr, players, ledger, profile_path, clusters, applications)
    finally:
        for player in players.values():
            player.stop()
        emr.stop()
        kube.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def write_profile(path: Path, virtual_clusters: dict[str, str], applications: dict[str, str]) -> Path:
    """The example compaction profile, its tenants pointed at the campaign's virtual clusters and
    applications."""
    profile: dict[str, Any] = yaml.safe_load(PROFILE_PATH.read_text())
    for tenant, cluster in virtual_clusters.items():
        profile["tenants"][tenant]["emr"]["virtual_cluster_id"] = cluster
        profile["tenants"][tenant]["emr_serverless"]["application_id"] = applications[tenant]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(profile))
    return path
