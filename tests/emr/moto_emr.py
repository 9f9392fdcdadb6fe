# mypy: disable-error-code="attr-defined"
# (the attributes moto's models lack, `admitted` and `scheduler_configuration`, are added to them here)
"""moto's server in this process, playing EMR on EKS (emr-containers) and S3 for the tests and benchmarks.

moto's job runs start RUNNING and stay there: nothing in moto ever finishes them, and there is no HTTP
way to. Runs are moved to COMPLETED, FAILED or CANCELLED here, through moto's in-process backend, while
clients reach the server only over HTTP. Two gaps of moto are closed so that the code under test meets
the service's behaviour, not moto's shortcuts:
- `createdAt` is the real creation time (moto truncates it to midnight, which breaks `createdAfter`);
- `clientToken` is honoured: a repeated StartJobRun with the same token returns the same run;
- job templates: moto has none, so `EmrMoto.add_job_template` registers one and StartJobRun with a
  `jobTemplateId` fills the template's `${Name}` parameters from `jobTemplateParameters`, refusing a
  missing one with a ValidationException, as the service does;
- job queueing (July 2026): moto ignores `schedulerConfiguration`. Here a virtual cluster keeps it; its
  new runs wait SUBMITTED in the queue until a test admits them (`EmrMoto.admit`, at most
  `maxConcurrentJobRuns` admitted and active), StartJobRun on a full queue (`maxInQueueJobRuns` waiting)
  is refused with a ValidationException, and DescribeVirtualCluster reports `schedulerStatus`.

A control route (`POST /_emr_test/state`, `GET /_emr_test/calls`, `POST /_emr_test/faults` to start or
end a throttling storm) does the same for a server running in another process (the benchmark keeps
moto off the client's CPU that way).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.emrcontainers.exceptions import EMRContainersException, ResourceNotFoundException
from moto.emrcontainers.models import EMRContainersBackend, JobRun, emrcontainers_backends
from moto.emrcontainers.responses import EMRContainersResponse
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from tests.emr.faults import App, Environ, Faults, StartResponse

ACCOUNT = "123456789012"
REGION = "eu-west-1"
RELEASE_LABEL = "emr-7.5.0-latest"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/emr-datalake"
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
QUEUE_FULL = "The job queue of the virtual cluster is full (maxInQueueJobRuns {limit})"
_PATCH_LOCK = threading.Lock()
_PATCHED = {"servers": 0}
_original_start: Callable[..., JobRun] = EMRContainersBackend.start_job_run


def _start_job_run(self: EMRContainersBackend, **kwargs: Any) -> JobRun:
    """StartJobRun as the service does it: idempotent by clientToken, stamped with the real time, and
    queued (or refused, the queue being full) on a virtual cluster with a scheduler configuration."""
    tokens: dict[tuple[str, str], str] = self.__dict__.setdefault("client_tokens", {})
    known = tokens.get((kwargs["virtual_cluster_id"], kwargs["client_token"]))
    if known in self.job_runs:  # an index, not a scan of every run: 10,000 starts stay linear
        return self.job_runs[known]
    cluster = self.virtual_clusters.get(kwargs["virtual_cluster_id"])
    scheduler = getattr(cluster, "scheduler_configuration", None)
    if scheduler and cluster is not None:
        limit = scheduler.get("maxInQueueJobRuns")
        if limit is not None and scheduler_status(self, cluster.id)["currentInQueueJobRuns"] >= limit:
            self.__dict__["queue_refusals"] = self.__dict__.get("queue_refusals", 0) + 1
            raise ValidationException(QUEUE_FULL.format(limit=limit))
    run = _original_start(self, **kwargs)
    run.created_at = utcnow()
    tokens[kwargs["virtual_cluster_id"], kwargs["client_token"]] = run.id
    if scheduler:
        run.state, run.admitted = "SUBMITTED", False
    return run


def scheduler_status(backend: EMRContainersBackend, cluster_id: str) -> dict[str, int]:
    """Runs waiting in the cluster's queue, and runs admitted and not ended."""
    runs = [r for r in list(backend.job_runs.values()) if r.virtual_cluster_id == cluster_id]
    runs = [r for r in runs if r.state not in TERMINAL]
    queued = sum(not getattr(r, "admitted", True) for r in runs)
    return {"currentInQueueJobRuns": queued, "currentConcurrentJobRuns": len(runs) - queued}


class ValidationException(EMRContainersException):
    code = "ValidationException"


_original_create_cluster: Callable[[EMRContainersResponse], Any] = EMRContainersResponse.create_virtual_cluster
_original_describe_cluster: Callable[[EMRContainersResponse], Any] = EMRContainersResponse.describe_virtual_cluster


def _create_virtual_cluster_response(self: EMRContainersResponse) -> Any:
    """CreateVirtualCluster keeping its `schedulerConfiguration`."""
    result = _original_create_cluster(self)
    cluster = self.emrcontainers_backend.virtual_clusters[result.result["id"]]
    cluster.scheduler_configuration = self._get_param("schedulerConfiguration")
    return result


def _describe_virtual_cluster_response(self: EMRContainersResponse) -> Any:
    """DescribeVirtualCluster with the scheduler's configuration and its live status."""
    result = _original_describe_cluster(self)
    cluster = result.result["virtualCluster"]
    scheduler = getattr(cluster, "scheduler_configuration", None)
    if not scheduler:
        return result
    described = {
        "id": cluster.id,
        "name": cluster.name,
        "arn": cluster.arn,
        "state": cluster.state,
        "containerProvider": cluster.container_provider,
        "createdAt": cluster.created_at,
        "tags": cluster.tags,
        "schedulerConfiguration": scheduler,
        "schedulerStatus": scheduler_status(self.emrcontainers_backend, cluster.id),
    }
    return ActionResult({"virtualCluster": described})


_original_response: Callable[[EMRContainersResponse], Any] = EMRContainersResponse.start_job_run
_PARAMETER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")


def _start_job_run_response(self: EMRContainersResponse) -> Any:
    """StartJobRun with a job template: the template's data, its `${Name}` filled from the parameters."""
    template_id = self._get_param("jobTemplateId")
    if template_id is None:
        return _original_response(self)
    templates: dict[str, dict[str, Any]] = getattr(self.emrcontainers_backend, "job_templates", {})
    if template_id not in templates:
        raise ResourceNotFoundException(f"Job template {template_id} doesn't exist.")
    parameters: dict[str, str] = self._get_param("jobTemplateParameters") or {}

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fill(value) for value in node]
        if isinstance(node, str):
            missing = [name for name in _PARAMETER.findall(node) if name not in parameters]
            if missing:
                raise ValidationException(f"Job template parameter {missing[0]} has no value")
            return _PARAMETER.sub(lambda match: parameters[match.group(1)], node)
        return node

    data = fill(templates[template_id])
    run = self.emrcontainers_backend.start_job_run(
        name=self._get_param("name"),
        virtual_cluster_id=self._get_param("virtualClusterId"),
        client_token=self._get_param("clientToken"),
        execution_role_arn=data["executionRoleArn"],
        release_label=data["releaseLabel"],
        job_driver=data["jobDriver"],
        configuration_overrides=data.get("configurationOverrides") or {},
        tags={**data.get("jobTags", {}), **(self._get_param("tags") or {})},
    )
    return ActionResult({"id": run.id, "name": run.name, "arn": run.arn, "virtualClusterId": run.virtual_cluster_id})


@contextmanager
def service_fidelity() -> Iterator[None]:
    """Patch moto's backend class while at least one server is up (reference-counted)."""
    with _PATCH_LOCK:
        _PATCHED["servers"] += 1
        EMRContainersBackend.start_job_run = _start_job_run  # type: ignore[method-assign,assignment]
        EMRContainersResponse.start_job_run = _start_job_run_response  # type: ignore[method-assign]
        EMRContainersResponse.create_virtual_cluster = _create_virtual_cluster_response  # type: ignore[method-assign]
        EMRContainersResponse.describe_virtual_cluster = _describe_virtual_cluster_response  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _PATCH_LOCK:
            _PATCHED["servers"] -= 1
            if not _PATCHED["servers"]:
                EMRContainersBackend.start_job_run = _original_start  # type: ignore[method-assign]
                EMRContainersResponse.start_job_run = _original_response  # type: ignore[method-assign,assignment]
                EMRContainersResponse.create_virtual_cluster = _original_create_cluster  # type: ignore[method-assign,assignment]
                EMRContainersResponse.describe_virtual_cluster = _original_describe_cluster  # type: ignore[method-assign,assignment]


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class EmrMoto(ThreadedMotoServer):
    """A started-on-demand moto server on 127.0.0.1 (a free port), with faults and call counts."""

    def __init__(self, faults: Faults | None = None) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.faults = faults or Faults()
        self._fidelity = service_fidelity()
        self._clients: dict[str, Any] = {}

    def _server_entry(self) -> None:
        app = self._control(self.faults.wrap(DomainDispatcherApplication(create_backend_app)))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=_QuietHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    def start(self) -> None:
        self._fidelity.__enter__()
        super().start()

    def stop(self) -> None:
        super().stop()
        self._fidelity.__exit__(None, None, None)

    def __enter__(self) -> EmrMoto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self, service: str) -> Any:
        """A boto3 client of this server (cached): what the tests use to play users and other tools."""
        if service not in self._clients:
            import boto3  # type: ignore[import-untyped]

            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.url,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]

    @property
    def backend(self) -> EMRContainersBackend:
        return emrcontainers_backends[ACCOUNT][REGION]

    def connection_json(self, **config: Any) -> str:
        """An Airflow `aws` connection to this server (dummy credentials; `config` = botocore Config)."""
        extra: dict[str, Any] = {"endpoint_url": self.url, "region_name": REGION}
        if config:
            extra["config_kwargs"] = config
        return json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra})

    def set_state(
        self, run_id: str, state: str, failure_reason: str | None = None, state_details: str | None = None
    ) -> None:
        """Move a run, as EMR would: terminal states get `finishedAt`."""
        run = self.backend.job_runs[run_id]
        run.failure_reason = failure_reason  # type: ignore[assignment]
        run.state_details = state_details
        if state in TERMINAL:
            run.finished_at = utcnow()
        run.state = state

    def add_job_template(self, template_id: str, data: dict[str, Any]) -> None:
        """A job template (its `jobTemplateData`), as CreateJobTemplate would have made it."""
        templates = self.backend.__dict__.setdefault("job_templates", {})
        templates[template_id] = data

    def set_scheduler(self, virtual_cluster_id: str, scheduler: dict[str, int]) -> None:
        """Give a cluster a scheduler configuration in-process (as UpdateVirtualCluster would), with any
        numbers: small tests use queues below the API's minimum of 100."""
        self.backend.virtual_clusters[virtual_cluster_id].scheduler_configuration = dict(scheduler)

    def admit(self, run_id: str) -> bool:
        """Let a queued run start (SUBMITTED, to be moved on by the test) if its cluster has a free slot."""
        run = self.backend.job_runs[run_id]
        if getattr(run, "admitted", True):
            return True
        scheduler = self.backend.virtual_clusters[run.virtual_cluster_id].scheduler_configuration
        limit = scheduler.get("maxConcurrentJobRuns")
        running = scheduler_status(self.backend, run.virtual_cluster_id)["currentConcurrentJobRuns"]
        if limit is not None and running >= limit:
            return False
        run.admitted = True
        return True

    @property
    def queue_refusals(self) -> int:
        """StartJobRun calls refused because the virtual cluster's queue was full."""
        return int(self.backend.__dict__.get("queue_refusals", 0))

    def state(self, run_id: str) -> str:
        return str(self.backend.job_runs[run_id].state)

    def runs(self, virtual_cluster_id: str | None = None) -> list[JobRun]:
        return [r for r in self.backend.job_runs.values() if virtual_cluster_id in (None, r.virtual_cluster_id)]

    def _control(self, app: App) -> App:
        def control(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/_emr_test/"):
                return app(environ, start_response)
            if path == "/_emr_test/state":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                for change in json.loads(environ["wsgi.input"].read(size)):
                    self.set_state(**change)
                body = b"{}"
            elif path == "/_emr_test/faults":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                settings = json.loads(environ["wsgi.input"].read(size))
                kinds = tuple(settings.get("kinds") or ("throttle",))
                self.faults.configure(
                    float(settings["rate"]), kinds, int(settings.get("seed", 0)), operations=settings.get("operations")
                )
                body = b"{}"
            else:
                by_cluster = [[vc, op, n] for (vc, op), n in self.faults.by_cluster.items()]
                body = json.dumps(
                    {"calls": dict(self.faults.calls), "by_cluster": by_cluster, "injected": dict(self.faults.injected)}
                ).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        return control


def quiet_werkzeug() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
