"""A Kubernetes API server for tests, with a simulated Spark Operator, on 127.0.0.1.

It runs in a background thread with its own event loop, so sync tests, async tests and
``dag.test()`` reach it the way users reach EKS: over HTTP(S), through a kubeconfig or an Airflow
``kubernetes`` connection. See ``fixtures.py`` for the pytest entry points.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import collections
import json
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import yaml
from aiohttp import web

from tests.kubeapi import resources
from tests.kubeapi.auth import Tokens
from tests.kubeapi.clock import SimClock
from tests.kubeapi.cluster import Cluster
from tests.kubeapi.errors import ApiError
from tests.kubeapi.faults import Faults
from tests.kubeapi.handlers import Api, error_response, json_response, not_found_response, parse_target, verb_of
from tests.kubeapi.logs import LogStore
from tests.kubeapi.operator import SparkOperator
from tests.kubeapi.resources import ResourceType
from tests.kubeapi.scenarios import Outcome
from tests.kubeapi.selectors import make_matcher
from tests.kubeapi.store import Change, Obj, Store, clone

if TYPE_CHECKING:
    from tests.kubeapi.admission import CrdAdmission
    from tests.kubeapi.rbac import Rbac
    from tests.kubeapi.tls import TlsFiles

T = TypeVar("T")


class RequestCounters:
    """Requests by (verb, resource), e.g. ``("watch", "sparkapplications")``, ``("get", "pods/log")``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[tuple[str, str]] = collections.Counter()

    def add(self, verb: str, resource: str) -> None:
        with self._lock:
            self._counts[(verb, resource)] += 1

    def __getitem__(self, key: tuple[str, str]) -> int:
        with self._lock:
            return self._counts[key]

    def total(self, verb: str | None = None, resource: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (v, r), n in self._counts.items()
                if (verb is None or v == verb) and (resource is None or r == resource)
            )

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def __repr__(self) -> str:
        return f"RequestCounters({self.snapshot()!r})"


def _rtype(kind_or_plural: str) -> ResourceType:
    for rt in resources.RESOURCE_TYPES:
        if kind_or_plural in (rt.plural, rt.kind, rt.singular):
            return rt
    raise KeyError(kind_or_plural)


class KubeApiServer:
    """The test API server. Use as a context manager, or ``start()``/``stop()``.

    :param speed: simulated seconds per real second for the operator simulation.
    :param crd_path: the SparkApplication CRD YAML; enables admission (422, pruning).
    :param tls: serve HTTPS with a throw-away CA (kubectl sends tokens only over TLS).
    :param token_auth: require a bearer token; see ``rotate_token`` and ``tokens``.
    :param auto_namespaces: create a namespace on first use instead of answering 404.
    :param rbac: enforce these Roles for the served identity (403 otherwise); see ``rbac.py``.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        crd_path: str | Path | None = None,
        tls: bool = False,
        token_auth: bool = False,
        seed: int = 0,
        workdir: str | Path | None = None,
        auto_namespaces: bool = True,
        history_size: int = 10_000,
        bookmark_interval: float = 60.0,
        rbac: Rbac | None = None,
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="kubeapi-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.clock = SimClock(speed)
        self.faults = Faults(seed)
        self.tokens = Tokens(self.clock, enabled=token_auth)
        self.counters = RequestCounters()
        self.rbac = rbac
        # jsonschema and cryptography are imported only when asked for: they double import time.
        self.admission: CrdAdmission | None = None
        self._crd_path = Path(crd_path) if crd_path else None
        if crd_path:
            from tests.kubeapi.admission import CrdAdmission

            self.admission = CrdAdmission.load(Path(crd_path))
        self._tls: TlsFiles | None = None
        if tls:
            from tests.kubeapi.tls import make_tls

            self._tls = make_tls(self.workdir / "tls")
        self._auto_namespaces = auto_namespaces
        self._history_size = history_size
        self._bookmark_interval = bookmark_interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._startup_error: BaseException | None = None
        self.port = 0
        self.store: Store
        self.logs: LogStore
        self.operator: SparkOperator
        self.cluster: Cluster
        self.api: Api

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="kubeapi-server", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._startup_error is not None:
            raise RuntimeError("kube API test server failed to start") from self._startup_error
        self.write_kubeconfig()
        return self

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start()
            self._startup_error = exc
            self._ready.set()

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        self.clock.bind(loop)
        self.store = Store(self.clock, self._history_size)
        self.logs = LogStore()
        self.cluster = Cluster(self.store, self.logs, self.clock)
        self.operator = SparkOperator(self.store, self.cluster, self.clock)
        self.api = Api(self.store, self.logs, self.faults, self.admission, self._auto_namespaces)
        self.api.bookmark_interval = self._bookmark_interval
        self.store.listeners.append(self._drop_logs)
        for namespace in ("default", "kube-system"):
            self.cluster.ensure_namespace(namespace)
        if self._crd_path is not None:  # installed, as the Spark Operator's chart would
            crd = yaml.safe_load(self._crd_path.read_text(encoding="utf-8"))
            self.store.create(resources.BY_PLURAL["customresourcedefinitions"], "", crd)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(
            runner,
            "127.0.0.1",
            0,
            ssl_context=self._tls.server_context() if self._tls else None,
            backlog=4096,
        )
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        self.api.stopping.set()
        for record in list(self.operator.records.values()):
            for task in list(record.tasks):
                task.cancel()
        await runner.cleanup()

    def _drop_logs(self, rtype: ResourceType, change: Change) -> None:
        if rtype.plural == "pods" and change.type == "DELETED":
            self.logs.drop_pod(change.obj["metadata"]["namespace"], change.obj["metadata"]["name"])

    # ---- HTTP --------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/kubeapi/counters":  # for benchmarks in another process; not counted itself
            return json_response([[verb, resource, n] for (verb, resource), n in self.iter_requests()])
        target = parse_target(path)
        query = dict(request.query)
        verb = verb_of(request.method, target, query) if target else "get"
        resource = target.resource if target else "discovery"
        self.counters.add(verb, resource)
        try:
            self.tokens.check(request.headers.get("Authorization"))
            if target is not None and target.rtype.plural == "selfsubjectaccessreviews" and request.method == "POST":
                return json_response(self._review(await request.json()), 201)  # any user may ask about itself
            if self.rbac is not None and target is not None:
                self.rbac.check(verb, target)
            decision = self.faults.decide(verb, resource)
            if decision.delay:
                await asyncio.sleep(decision.delay)
            if decision.error is not None:
                raise decision.error
            if target is None:
                return self._discovery(path)
            return await self.api.handle(request, target, verb)
        except ApiError as exc:
            return error_response(exc)

    def _review(self, review: dict[str, Any]) -> dict[str, Any]:
        """A SelfSubjectAccessReview answered from the served identity's RBAC (everything without RBAC)."""
        from tests.kubeapi.rbac import Request

        asked = (review.get("spec") or {}).get("resourceAttributes") or {}
        resource = asked.get("resource", "")
        if asked.get("subresource"):
            resource = f"{resource}/{asked['subresource']}"
        wanted = Request(
            asked.get("verb", ""), asked.get("group", ""), resource, asked.get("namespace"), asked.get("name")
        )
        allowed = self.rbac is None or self.rbac.allows(wanted)
        return {**review, "status": {"allowed": allowed, **({} if allowed else {"reason": "no RBAC rule allows it"})}}

    def _discovery(self, path: str) -> web.StreamResponse:
        parts = [p for p in path.split("/") if p]
        body: dict[str, Any] | None = None
        if parts == ["version"]:
            body = resources.VERSION_INFO
        elif parts == ["api"]:
            body = resources.api_versions()
        elif parts == ["api", "v1"]:
            body = resources.api_resource_list("", "v1")
        elif parts == ["apis"]:
            body = resources.api_group_list()
        elif len(parts) == 2 and parts[0] == "apis":
            body = resources.api_group(parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            body = resources.api_resource_list(parts[1], parts[2])
        elif parts == ["openapi", "v3"]:
            body = resources.openapi_v3_root()
        elif parts[:2] == ["openapi", "v3"] and len(parts) in (4, 5):
            group, version = ("", parts[3]) if parts[2] == "api" else (parts[3], parts[4] if len(parts) == 5 else "")
            body = resources.openapi_v3_group_version(group, version) if version else None
        elif parts and parts[0] in ("healthz", "livez", "readyz"):
            return web.Response(text="ok", content_type="text/plain")
        if body is None:
            return not_found_response(path)
        return json_response(body)

    # ---- thread-safe Python API for tests ----------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def ca_pem(self) -> bytes | None:
        return self._tls.ca_pem if self._tls else None

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on the server loop (where the store lives) and return its result."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("server not started")
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout)

    def get(self, kind: str, name: str, namespace: str = "default") -> Obj | None:
        """A copy of one object (``kind`` is a plural, kind or singular: ``pods``, ``Node``)."""
        rtype = _rtype(kind)
        found: Obj | None = self.call(lambda: clone(self.store.get(rtype, namespace, name)))
        return found

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        rtype = _rtype(kind)
        matcher = make_matcher(label_selector, field_selector)
        return self.call(lambda: clone(self.store.list(rtype, namespace if rtype.namespaced else None, matcher)))

    def create(self, kind: str, body: Obj, namespace: str = "default") -> Obj:
        rtype = _rtype(kind)
        return self.call(lambda: clone(self.store.create(rtype, namespace if rtype.namespaced else "", body)))

    def delete(self, kind: str, name: str, namespace: str = "default", propagation: str = "Background") -> None:
        rtype = _rtype(kind)
        self.call(lambda: self.store.delete(rtype, namespace, name, propagation))

    def events(
        self, name: str | None = None, kind: str | None = None, namespace: str | None = None
    ) -> builtins.list[Obj]:
        """Events, optionally about one involved object."""
        selectors = []
        if name:
            selectors.append(f"involvedObject.name={name}")
        if kind:
            selectors.append(f"involvedObject.kind={kind}")
        return self.list("events", namespace, field_selector=",".join(selectors) or None)

    def app_state(self, name: str, namespace: str = "default") -> str | None:
        app = self.get("sparkapplications", name, namespace)
        if app is None:
            return None
        return str(((app.get("status") or {}).get("applicationState") or {}).get("state", ""))

    def state_history(self, name: str, namespace: str = "default") -> builtins.list[str]:
        """Every ``applicationState.state`` the operator wrote for the latest app of that name."""
        return self.call(lambda: list(self.operator.history.get((namespace, name), [])))

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.01) -> T:
        """Poll ``predicate`` until it returns something truthy (real seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s (last value: {value!r})")
            time.sleep(interval)

    def wait_for_state(
        self, name: str, states: str | tuple[str, ...], namespace: str = "default", timeout: float = 10.0
    ) -> str:
        wanted = (states,) if isinstance(states, str) else states
        return self.wait_for(lambda: (s if (s := self.app_state(name, namespace)) in wanted else None) or "", timeout)

    def script(self, key: str, *outcomes: Outcome) -> None:
        """Choose what happens to applications named ``key`` (exact or glob), or marked with it.

        Applications carry the marker as label or annotation ``kubeapi.test/scenario: <key>``. One
        outcome per submission attempt; the last one repeats.
        """
        if not outcomes:
            raise ValueError("give at least one outcome")
        self.operator.scripts[key] = tuple(outcomes)

    def set_default_scenario(self, *outcomes: Outcome) -> None:
        self.operator.default = tuple(outcomes)

    def compact(self) -> None:
        """Drop watch history: any older resourceVersion now gets 410 Expired."""
        self.call(self.store.compact)

    def expire_watches(self) -> int:
        """Compact and end every open watch with 410 Expired (how many): every client must relist."""
        return self.call(self.store.expire_watches)

    @property
    def bookmark_interval(self) -> float:
        """Real seconds between BOOKMARK events on watches that allow them (default 60)."""
        return self.api.bookmark_interval

    @bookmark_interval.setter
    def bookmark_interval(self, seconds: float) -> None:
        self.api.bookmark_interval = seconds

    @property
    def resource_version(self) -> int:
        return self.call(lambda: self.store.rv)

    # ---- credentials -------------------------------------------------------------------------

    def rotate_token(self, ttl: float | None = None) -> str:
        """Expire the current token, issue a new one and write it into the kubeconfig."""
        if self.tokens.current:
            self.tokens.expire()
        token = self.tokens.issue(ttl)
        self.write_kubeconfig()
        return token

    def kubeconfig(self, namespace: str = "default") -> dict[str, Any]:
        cluster: dict[str, Any] = {"server": self.url}
        if self._tls:
            cluster["certificate-authority-data"] = base64.b64encode(self._tls.ca_pem).decode()
        user: dict[str, Any] = {"token": self.tokens.current} if self.tokens.enabled else {}
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kubeapi-test", "cluster": cluster}],
            "users": [{"name": "kubeapi-test", "user": user}],
            "contexts": [
                {
                    "name": "kubeapi-test",
                    "context": {"cluster": "kubeapi-test", "user": "kubeapi-test", "namespace": namespace},
                }
            ],
            "current-context": "kubeapi-test",
            "preferences": {},
        }

    def write_kubeconfig(self) -> Path:
        """(Re)write ``kubeconfig_path`` atomically, so a reader never sees half a file."""
        tmp = self.kubeconfig_path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(self.kubeconfig()))
        tmp.replace(self.kubeconfig_path)
        return self.kubeconfig_path

    def airflow_connection(self, namespace: str | None = None) -> dict[str, Any]:
        """An Airflow ``kubernetes`` connection (JSON form) pointing at ``kubeconfig_path``."""
        extra: dict[str, Any] = {"kube_config_path": str(self.kubeconfig_path)}
        if namespace:
            extra["namespace"] = namespace
        return {"conn_type": "kubernetes", "extra": extra}

    def airflow_connection_json(self, namespace: str | None = None) -> str:
        """For ``AIRFLOW_CONN_<ID>``."""
        return json.dumps(self.airflow_connection(namespace))

    def airflow_connection_uri(self, namespace: str | None = None) -> str:
        extra = self.airflow_connection(namespace)["extra"]
        return "kubernetes://?" + urllib.parse.urlencode(extra)

    def iter_requests(self) -> Iterator[tuple[tuple[str, str], int]]:
        yield from sorted(self.counters.snapshot().items())
