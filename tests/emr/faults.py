"""A WSGI layer in front of moto's app: counts API calls by operation and injects AWS-shaped faults.

It sits on moto's own loopback listener, so clients see only HTTP: a throttled call is a real 429
with `x-amzn-ErrorType: ThrottlingException`, parsed by botocore/aiobotocore exactly as AWS's would be.
Faults come at a seeded rate (reproducible runs) or as a script of the next N calls of an operation.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]

FAULTS: dict[str, tuple[int, str, str]] = {
    "throttle": (429, "ThrottlingException", "Rate exceeded"),
    "500": (500, "InternalServerException", "We encountered an internal error. Please try again."),
    "503": (503, "ServiceUnavailableException", "Service unavailable"),
    "408": (408, "Timeout", "Request timed out"),  # a code outside the AWS list: the status decides
    "queue_full": (400, "ValidationException", "The job queue of the virtual cluster is full (maxInQueueJobRuns)"),
}
_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
_JOB_RUN = re.compile(r"^/virtualclusters/[^/]+/jobruns/[^/]+$")
_JOB_RUNS = re.compile(r"^/virtualclusters/[^/]+/jobruns/?$")
_CLUSTER = re.compile(r"^/(?:virtualclusters|applications)/([^/]+)/")
_SERVERLESS = (
    (re.compile(r"^/applications/[^/]+/jobruns/[^/]+/dashboard$"), {"GET": "GetDashboardForJobRun"}),
    (re.compile(r"^/applications/[^/]+/jobruns/[^/]+/attempts$"), {"GET": "ListJobRunAttempts"}),
    (re.compile(r"^/applications/[^/]+/jobruns/[^/]+$"), {"GET": "GetJobRun", "DELETE": "CancelJobRun"}),
    (re.compile(r"^/applications/[^/]+/jobruns/?$"), {"GET": "ListJobRuns", "POST": "StartJobRun"}),
    (re.compile(r"^/applications/[^/]+/start$"), {"POST": "StartApplication"}),
    (re.compile(r"^/applications/[^/]+$"), {"GET": "GetApplication"}),
    (re.compile(r"^/applications/?$"), {"POST": "CreateApplication", "GET": "ListApplications"}),
)


def service(environ: Environ) -> str:
    """The AWS service a request signs for (`emr-containers`, `emr-serverless`, `s3`, ...)."""
    match = _SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else "unknown"


def operation(environ: Environ) -> str:
    """The API operation of a request, from its method and path (emr-containers, emr-serverless), else
    `service:METHOD`."""
    method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
    signed_for = service(environ)
    if signed_for == "emr-serverless":
        found = next((ops for pattern, ops in _SERVERLESS if pattern.match(path)), {})
        return found.get(str(method), f"emr-serverless:{method} {path}")
    if signed_for != "emr-containers":
        return f"{signed_for}:{method}"
    if _JOB_RUN.match(path):
        return {"GET": "DescribeJobRun", "DELETE": "CancelJobRun"}.get(str(method), str(method))
    if _JOB_RUNS.match(path):
        return {"GET": "ListJobRuns", "POST": "StartJobRun"}.get(str(method), str(method))
    if path.rstrip("/") == "/virtualclusters":
        return "CreateVirtualCluster" if method == "POST" else "ListVirtualClusters"
    return f"emr-containers:{method} {path}"


@dataclass
class Faults:
    """What to inject, and what was seen. Thread-safe: moto serves each request on its own thread.

    :param rate: probability that a call of one of `operations` fails with one of `kinds`.
    :param kinds: fault names from `FAULTS`, picked uniformly.
    :param operations: operations subject to `rate` (None: every emr-containers operation).
    :param seed: seed of the fault draws.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ("throttle",)
    operations: frozenset[str] | None = None
    seed: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    by_cluster: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Calls by (virtual cluster, operation): separates two workloads sharing one server."""
    injected: Counter[str] = field(default_factory=Counter)
    by_service: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Calls and injected faults by (service, "calls" or "injected"): two services on one server."""
    _script: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def configure(self, rate: float, kinds: tuple[str, ...] = ("throttle",), seed: int = 0, **kw: Any) -> None:
        with self._lock:
            self.rate, self.kinds, self._rng = rate, kinds, random.Random(seed)
            self.operations = kw.get("operations")

    def fail_next(self, op: str, kind: str, times: int = 1) -> None:
        """The next `times` calls of `op` fail with `kind`, before any rate-based draw."""
        with self._lock:
            self._script.setdefault(op, []).extend([kind] * times)

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.by_cluster.clear()
            self.injected.clear()
            self.by_service.clear()

    def total(self, *ops: str) -> int:
        with self._lock:
            return sum(self.calls[op] for op in ops) if ops else sum(self.calls.values())

    def _draw(self, op: str, cluster: str | None, signed_for: str = "unknown") -> str | None:
        with self._lock:
            self.calls[op] += 1
            self.by_service[signed_for, "calls"] += 1
            if cluster:
                self.by_cluster[cluster, op] += 1
            scripted = self._script.get(op)
            if scripted:
                kind: str | None = scripted.pop(0)
            elif self.rate and op.isalpha() and (self.operations is None or op in self.operations):
                kind = self._rng.choice(self.kinds) if self._rng.random() < self.rate else None
            else:
                kind = None
            if kind:
                self.injected[kind] += 1
                self.by_service[signed_for, "injected"] += 1
            return kind

    def wrap(self, app: App) -> App:
        def middleware(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            match = _CLUSTER.match(environ.get("PATH_INFO", ""))
            kind = self._draw(operation(environ), match.group(1) if match else None, service(environ))
            if kind is None:
                return app(environ, start_response)
            status, code, message = FAULTS[kind]
            body = json.dumps({"message": message}).encode()
            start_response(
                f"{status} {code}",
                [
                    ("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", code),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]

        return middleware
