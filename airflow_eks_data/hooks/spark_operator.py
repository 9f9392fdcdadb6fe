"""SparkApplication access on EKS, on the cncf-kubernetes provider's hooks and `kubernetes` connection.

`SparkOperatorHook` (sync) serves the worker: create or adopt, delete, read driver logs.
`AsyncSparkOperatorHook` serves the triggerer: reads, the shared watch stream, and evidence of how a
run ended. Both retry transient errors (`outcomes.retrying.is_transient`: 408, 429, 5xx, dropped
connections) with full-jitter backoff, and rebuild their client on 401 (EKS tokens expire after
about 15 minutes; a kubeconfig with an exec plugin or a rotated file yields a new one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any

from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook, KubernetesHook

from airflow_eks_data.outcomes.retrying import status_of
from airflow_eks_data.render.pod_template import CONTAINER
from airflow_eks_data.utils.retries import KUBE_RETRIES, acall_with_retries, call_with_retries

GROUP = "sparkoperator.k8s.io"
VERSION = "v1beta2"
PLURAL = "sparkapplications"
BAD_REQUEST = 400
NOT_FOUND = 404
FORBIDDEN = 403
CONFLICT = 409
CR: dict[str, Any] = {"group": GROUP, "version": VERSION, "plural": PLURAL}
_RAISE: Any = object()
REQUEST_TIMEOUT = 60
LOG_LIMIT_BYTES = 256 * 1024
"""Per periodic read of a driver log: a chatty driver cannot flood the triggerer or the task log."""
_CLIENT_PROPERTIES = ("api_client", "core_v1_client", "custom_object_client")


def label_selector(labels: Mapping[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def driver_pod_name(application: Mapping[str, Any]) -> str:
    """The driver pod the operator reports, else the name it gives by default."""
    info = (application.get("status") or {}).get("driverInfo") or {}
    return str(info.get("podName") or f"{application['metadata']['name']}-driver")


def driver_log(application: Mapping[str, Any]) -> dict[str, str]:
    """The pod and container of the driver's log, as `read_namespaced_pod_log` takes them."""
    namespace = application["metadata"]["namespace"]
    return {"name": driver_pod_name(application), "namespace": namespace, "container": CONTAINER["driver"]}


def _configuration() -> Any:
    from kubernetes import client  # type: ignore[import-untyped]

    return client.Configuration()


def _raise_for_status(response: Any, body: bytes) -> None:
    """Raw responses (`_preload_content=False`) do not raise on errors: raise as the client would,
    keeping the status and headers (Retry-After) that the retry policy reads."""
    if response.status < 400:
        return
    from kubernetes_asyncio.client.exceptions import ApiException

    error = ApiException(status=response.status, reason=response.reason)
    error.headers = response.headers
    error.body = body
    raise error


class SparkOperatorHook(KubernetesHook):
    """Worker-side SparkApplication calls (sync)."""

    hook_name = "Spark Operator on EKS"
    retry_settings = KUBE_RETRIES
    """Per call, 401s included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.client_configuration is None:
            self.client_configuration = _configuration()

    def _renew(self) -> None:
        """Build the next client from fresh credentials, loaded into a configuration of this hook's own:
        left None, the kubernetes client loads into its process-wide default and copies from it, and a
        worker's threads renewing at once (an expired EKS token) can build a client from another's
        stale load (seen as a run of 401s in the fault campaign)."""
        self.client_configuration = _configuration()
        for name in _CLIENT_PROPERTIES:
            self.__dict__.pop(name, None)

    def _call(self, api: str, method: str, /, *, missing: Any = _RAISE, **kwargs: Any) -> Any:
        """`self.<api>.<method>(**kwargs)`, looked up on every try so that a renewed client is used;
        `missing` is returned instead of raising when the object does not exist (404)."""
        try:
            return call_with_retries(
                lambda: getattr(getattr(self, api), method)(**kwargs), renew=self._renew, backoff=self.retry_settings
            )
        except Exception as exc:
            if missing is _RAISE or status_of(exc) != NOT_FOUND:
                raise
            return missing

    def create_application(self, manifest: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create it, or return the existing one of that name: (application, created)."""
        meta = manifest["metadata"]
        try:
            api = "custom_object_client"
            return self._call(
                api, "create_namespaced_custom_object", **CR, namespace=meta["namespace"], body=manifest
            ), True
        except Exception as exc:
            if status_of(exc) != CONFLICT:
                raise
        existing = self.get_application(meta["name"], meta["namespace"])
        if existing is None:  # deleted between our create and get: let the caller decide
            raise RuntimeError(f"SparkApplication {meta['name']} conflicted on create and then vanished")
        return existing, False

    def get_application(self, name: str, namespace: str) -> dict[str, Any] | None:
        return self._call(  # type: ignore[no-any-return]
            "custom_object_client", "get_namespaced_custom_object", **CR, namespace=namespace, name=name, missing=None
        )

    def find_applications(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        selector = label_selector(labels)
        result = self._call(
            "custom_object_client", "list_namespaced_custom_object", **CR, namespace=namespace, label_selector=selector
        )
        return list(result.get("items", []))

    def delete_application(self, name: str, namespace: str) -> bool:
        """Delete it and, through owner references, its pods; False if it was already gone."""
        return (
            self._call(
                "custom_object_client",
                "delete_namespaced_custom_object",
                **CR,
                namespace=namespace,
                name=name,
                propagation_policy="Background",
                missing=False,
            )
            is not False
        )

    def driver_log_tail(self, application: Mapping[str, Any], lines: int) -> list[str]:
        """The last `lines` lines of the driver container's log ([] if the pod is gone)."""
        try:
            response = self._call(
                "core_v1_client",
                "read_namespaced_pod_log",
                **driver_log(application),
                tail_lines=lines,
                _preload_content=False,
                missing=None,
            )
        except Exception as exc:
            if status_of(exc) != 400:  # 400: the container has not started, so there is no log
                raise
            return []
        if response is None:
            return []
        # Raw bytes: kubernetes v36 returns str(bytes) from the preloaded variant.
        return response.data.decode("utf-8", "replace").splitlines()[-lines:]  # type: ignore[no-any-return]


class AsyncSparkOperatorHook(AsyncKubernetesHook):
    """Triggerer-side SparkApplication calls (async, kubernetes_asyncio).

    One API client lives as long as the hook: building one per call (what `get_conn()` does) costs an
    SSL context, tens of milliseconds of CPU that block the triggerer's event loop. Triggers share the
    hook of their namespace's watch, so a thousand waits use one client. Call `close()` when done.

    A 401 retires the client while other waits may be using it: each call leases the client, and a
    retired one is closed when its last lease ends (closing it under a request breaks that request).
    Renewal happens under a lock inside the next call, never half-way through another's config load.
    """

    retry_settings = KUBE_RETRIES
    _api_client: Any = None
    _renew_requested = False
    _lock: asyncio.Lock | None = None
    _leases: Counter[Any] | None = None

    async def _api(self) -> Any:
        """The hook's client, with credentials reloaded as the cncf hook does (exec plugins refresh)."""
        from kubernetes_asyncio import client

        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._renew_requested:
                self._renew_requested = False
                self._config_loaded = False
                self.client_configuration = None
                self._is_exec_auth = None
                retired, self._api_client = self._api_client, None
                if retired is not None and not (self._leases or {}).get(retired):
                    await retired.close()
            await self._load_config()  # type: ignore[no-untyped-call]
            if self._api_client is None:
                self._api_client = client.ApiClient(configuration=self.client_configuration)
            return self._api_client

    @contextlib.asynccontextmanager
    async def _lease(self) -> AsyncIterator[Any]:
        api = await self._api()
        leases = self._leases = self._leases if self._leases is not None else Counter()
        leases[api] += 1
        try:
            yield api
        finally:
            leases[api] -= 1
            if not leases[api]:
                del leases[api]
                if api is not self._api_client:  # retired while in use: the last user closes it
                    await api.close()

    def renew(self) -> None:
        """Read fresh credentials and build a new client at the next call."""
        self._renew_requested = True

    async def close(self) -> None:
        if self._api_client is not None:
            api, self._api_client = self._api_client, None
            await api.close()

    async def _body(self, method: str, api_class: str, /, *, tolerated: frozenset[int], **kwargs: Any) -> bytes | None:
        """One API call's body, retried; None when it answered one of the `tolerated` statuses."""
        from kubernetes_asyncio import client

        async def call() -> bytes:
            async with self._lease() as api_client:
                api = getattr(client, api_class)(api_client)
                response = await getattr(api, method)(
                    **kwargs, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
                )
                body: bytes = await response.read()
            _raise_for_status(response, body)
            return body

        try:
            return await acall_with_retries(call, renew=self.renew, backoff=self.retry_settings)
        except Exception as exc:
            if status_of(exc) not in tolerated:
                raise
            return None

    async def _json(
        self, method: str, api_class: str, /, *, missing: Any = _RAISE, forbidden_ok: bool = False, **kwargs: Any
    ) -> Any:
        """One API call's JSON body; `missing` stands for 404 (and for 403 when `forbidden_ok`:
        evidence the service account may not read is left out, not an error)."""
        tolerated = (
            frozenset() if missing is _RAISE else frozenset({NOT_FOUND, FORBIDDEN} if forbidden_ok else {NOT_FOUND})
        )
        body = await self._body(method, api_class, tolerated=tolerated, **kwargs)
        return missing if body is None else json.loads(body)

    async def driver_log_since(self, application: Mapping[str, Any], seconds: int) -> list[str]:
        """The driver's log lines of the last `seconds`, each after its RFC 3339 timestamp and a space;
        none while the container has not started (400) or when the pod is gone or unreadable."""
        body = await self._body(
            "read_namespaced_pod_log",
            "CoreV1Api",
            tolerated=frozenset({BAD_REQUEST, NOT_FOUND, FORBIDDEN}),
            **driver_log(application),
            since_seconds=seconds,
            timestamps=True,
            limit_bytes=LOG_LIMIT_BYTES,
        )
        return [] if body is None else body.decode("utf-8", "replace").splitlines()

    async def get_application(self, name: str, namespace: str) -> dict[str, Any] | None:
        return await self._json(  # type: ignore[no-any-return]
            "get_namespaced_custom_object", "CustomObjectsApi", **CR, namespace=namespace, name=name, missing=None
        )

    async def list_applications(
        self, namespace: str, *, limit: int | None = None, continue_token: str | None = None
    ) -> dict[str, Any]:
        """One page of the namespace's applications (all of them without `limit`)."""
        paging: dict[str, Any] = {k: v for k, v in (("limit", limit), ("_continue", continue_token)) if v}
        return await self._json(  # type: ignore[no-any-return]
            "list_namespaced_custom_object", "CustomObjectsApi", **CR, namespace=namespace, **paging
        )

    async def delete_application(self, name: str, namespace: str) -> bool:
        deleted = await self._json(
            "delete_namespaced_custom_object",
            "CustomObjectsApi",
            **CR,
            namespace=namespace,
            name=name,
            propagation_policy="Background",
            missing=False,
        )
        return deleted is not False

    async def watch_applications(
        self, namespace: str, resource_version: str, timeout_seconds: int
    ) -> AsyncIterator[dict[str, Any]]:
        """Raw watch events (`type`, `object`) from `resource_version`, until the server ends the stream."""
        from kubernetes_asyncio import client

        async with self._lease() as api_client:
            response = await client.CustomObjectsApi(api_client).list_namespaced_custom_object(
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                watch=True,
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=timeout_seconds,
                _preload_content=False,
                _request_timeout=timeout_seconds + 30,
            )
            try:
                if response.status >= 400:
                    _raise_for_status(response, await response.read())
                async for line in response.content:
                    if line.strip():
                        yield json.loads(line)
            finally:
                response.release()

    async def _pod(self, application: Mapping[str, Any]) -> dict[str, Any] | None:
        namespace = application["metadata"]["namespace"]
        name = driver_pod_name(application)
        return await self._json(  # type: ignore[no-any-return]
            "read_namespaced_pod", "CoreV1Api", name=name, namespace=namespace, missing=None, forbidden_ok=True
        )

    async def _node(self, pod: Mapping[str, Any] | None) -> dict[str, Any] | None:
        name = ((pod or {}).get("spec") or {}).get("nodeName")
        if not name:
            return None
        return await self._json("read_node", "CoreV1Api", name=name, missing=None, forbidden_ok=True)  # type: ignore[no-any-return]

    async def _events(self, field_selector: str, namespace: str | None) -> list[dict[str, Any]]:
        if namespace is None:
            method, scope = "list_event_for_all_namespaces", {}
        else:
            method, scope = "list_namespaced_event", {"namespace": namespace}
        found = await self._json(
            method, "CoreV1Api", **scope, field_selector=field_selector, missing=None, forbidden_ok=True
        )
        return list((found or {}).get("items", []))

    async def driver_pod_and_node(
        self, application: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The driver pod and its node now (None for what is gone or unreadable)."""
        pod = await self._pod(application)
        return pod, await self._node(pod)

    async def pod_and_events(self, name: str, namespace: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """A pod (None if gone or unreadable) and the events on it: why an executor is not scheduled."""
        pod = await self._json(
            "read_namespaced_pod", "CoreV1Api", name=name, namespace=namespace, missing=None, forbidden_ok=True
        )
        return pod, await self._events(f"involvedObject.name={name}", namespace)

    async def driver_evidence(
        self,
        application: Mapping[str, Any],
        seen_pod: dict[str, Any] | None = None,
        seen_node: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The driver pod, events on it, its node and the application, and the node's labels and taints.

        A spot node and the pods on it vanish: `seen_pod` and `seen_node`, captured while the driver
        ran, stand in for what is gone. Best effort: a piece the service account may not read (403)
        or that no longer exists (404) is left out.
        """
        namespace = application["metadata"]["namespace"]
        pod = await self._pod(application) or seen_pod
        events: list[dict[str, Any]] = []
        for name in (driver_pod_name(application), application["metadata"]["name"]):
            events += await self._events(f"involvedObject.name={name}", namespace)
        node_name = ((pod or {}).get("spec") or {}).get("nodeName")
        node = None
        if node_name:
            node = await self._node(pod) or seen_node
            events += await self._events(f"involvedObject.kind=Node,involvedObject.name={node_name}", None)
        return {
            "driver_pod": pod,
            "events": events,
            "node_labels": ((node or {}).get("metadata") or {}).get("labels") or {},
            "node_taints": ((node or {}).get("spec") or {}).get("taints") or [],
        }
