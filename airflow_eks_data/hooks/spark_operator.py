"""SparkApplication access on EKS, on the cncf-kubernetes provider's hooks and `kubernetes` connection.

`SparkOperatorHook` (sync) serves the worker: create or adopt, delete, read driver logs.
`AsyncSparkOperatorHook` serves the triggerer: reads, the shared watch stream, and evidence of how a
run ended. Both retry throttling and 5xx with backoff, and rebuild their client on 401 (EKS tokens
expire after about 15 minutes; a kubeconfig with an exec plugin or a rotated file yields a new one).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook, KubernetesHook

from airflow_eks_data.render.pod_template import CONTAINER
from airflow_eks_data.utils.retries import acall_with_retries, call_with_retries, status_of

GROUP = "sparkoperator.k8s.io"
VERSION = "v1beta2"
PLURAL = "sparkapplications"
NOT_FOUND = 404
CONFLICT = 409
_CLIENT_PROPERTIES = ("api_client", "core_v1_client", "custom_object_client")


def label_selector(labels: Mapping[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def driver_pod_name(application: Mapping[str, Any]) -> str:
    """The driver pod the operator reports, else the name it gives by default."""
    info = (application.get("status") or {}).get("driverInfo") or {}
    return str(info.get("podName") or f"{application['metadata']['name']}-driver")


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

    def _renew(self) -> None:
        for name in _CLIENT_PROPERTIES:
            self.__dict__.pop(name, None)

    def _call(self, api: str, method: str, /, **kwargs: Any) -> Any:
        """`self.<api>.<method>(**kwargs)`, looked up on every try so that a renewed client is used."""
        return call_with_retries(lambda: getattr(getattr(self, api), method)(**kwargs), renew=self._renew)

    def create_application(self, manifest: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create it, or return the existing one of that name: (application, created)."""
        meta = manifest["metadata"]
        try:
            created = self._call(
                "custom_object_client",
                "create_namespaced_custom_object",
                group=GROUP,
                version=VERSION,
                namespace=meta["namespace"],
                plural=PLURAL,
                body=manifest,
            )
            return created, True
        except Exception as exc:
            if status_of(exc) != CONFLICT:
                raise
        existing = self.get_application(meta["name"], meta["namespace"])
        if existing is None:  # deleted between our create and get: let the caller decide
            raise RuntimeError(f"SparkApplication {meta['name']} conflicted on create and then vanished")
        return existing, False

    def get_application(self, name: str, namespace: str) -> dict[str, Any] | None:
        try:
            return self._call(  # type: ignore[no-any-return]
                "custom_object_client",
                "get_namespaced_custom_object",
                group=GROUP,
                version=VERSION,
                namespace=namespace,
                plural=PLURAL,
                name=name,
            )
        except Exception as exc:
            if status_of(exc) == NOT_FOUND:
                return None
            raise

    def find_applications(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        result = self._call(
            "custom_object_client",
            "list_namespaced_custom_object",
            group=GROUP,
            version=VERSION,
            namespace=namespace,
            plural=PLURAL,
            label_selector=label_selector(labels),
        )
        return list(result.get("items", []))

    def delete_application(self, name: str, namespace: str) -> bool:
        """Delete it and, through owner references, its pods; False if it was already gone."""
        try:
            self._call(
                "custom_object_client",
                "delete_namespaced_custom_object",
                group=GROUP,
                version=VERSION,
                namespace=namespace,
                plural=PLURAL,
                name=name,
                propagation_policy="Background",
            )
            return True
        except Exception as exc:
            if status_of(exc) == NOT_FOUND:
                return False
            raise

    def driver_log_tail(self, application: Mapping[str, Any], lines: int) -> list[str]:
        """The last `lines` lines of the driver container's log ([] if the pod is gone)."""
        namespace = application["metadata"]["namespace"]
        try:
            response = self._call(
                "core_v1_client",
                "read_namespaced_pod_log",
                name=driver_pod_name(application),
                namespace=namespace,
                container=CONTAINER["driver"],
                tail_lines=lines,
                _preload_content=False,
            )
        except Exception as exc:
            if status_of(exc) in (NOT_FOUND, 400):
                return []
            raise
        # Raw bytes: kubernetes v36 returns str(bytes) from the preloaded variant.
        return response.data.decode("utf-8", "replace").splitlines()[-lines:]  # type: ignore[no-any-return]


class AsyncSparkOperatorHook(AsyncKubernetesHook):
    """Triggerer-side SparkApplication calls (async, kubernetes_asyncio)."""

    async def _json(self, method: str, api_class: str, /, **kwargs: Any) -> Any:
        from kubernetes_asyncio import client

        async def call() -> Any:
            async with self.get_conn() as api:
                response = await getattr(getattr(client, api_class)(api), method)(**kwargs, _preload_content=False)
                body = await response.read()
                _raise_for_status(response, body)
                return json.loads(body)

        return await acall_with_retries(call, renew=self.renew)

    def renew(self) -> None:
        """Forget the loaded configuration so that the next call reads fresh credentials."""
        self._config_loaded = False
        self.client_configuration = None
        self._is_exec_auth = None

    async def get_application(self, name: str, namespace: str) -> dict[str, Any] | None:
        return await self._get_or_none(
            "get_namespaced_custom_object",
            "CustomObjectsApi",
            group=GROUP,
            version=VERSION,
            namespace=namespace,
            plural=PLURAL,
            name=name,
        )

    async def list_applications(self, namespace: str) -> dict[str, Any]:
        return await self._json(  # type: ignore[no-any-return]
            "list_namespaced_custom_object",
            "CustomObjectsApi",
            group=GROUP,
            version=VERSION,
            namespace=namespace,
            plural=PLURAL,
        )

    async def delete_application(self, name: str, namespace: str) -> bool:
        try:
            await self._json(
                "delete_namespaced_custom_object",
                "CustomObjectsApi",
                group=GROUP,
                version=VERSION,
                namespace=namespace,
                plural=PLURAL,
                name=name,
                propagation_policy="Background",
            )
            return True
        except Exception as exc:
            if status_of(exc) == NOT_FOUND:
                return False
            raise

    async def watch_applications(
        self, namespace: str, resource_version: str, timeout_seconds: int
    ) -> AsyncIterator[dict[str, Any]]:
        """Raw watch events (`type`, `object`) from `resource_version`, until the server ends the stream."""
        from kubernetes_asyncio import client

        async with self.get_conn() as api:
            response = await client.CustomObjectsApi(api).list_namespaced_custom_object(
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
            if response.status >= 400:
                _raise_for_status(response, await response.read())
            async for line in response.content:
                if line.strip():
                    yield json.loads(line)

    async def _get_or_none(self, method: str, api_class: str, /, **kwargs: Any) -> dict[str, Any] | None:
        try:
            return await self._json(method, api_class, **kwargs)  # type: ignore[no-any-return]
        except Exception as exc:
            if status_of(exc) == NOT_FOUND:
                return None
            raise

    async def driver_pod_and_node(
        self, application: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The driver pod and its node now (None for what is gone or unreadable)."""
        pod = await self._driver_pod(application)
        node_name = ((pod or {}).get("spec") or {}).get("nodeName")
        node = (
            await self._best_effort(self._get_or_none("read_node", "CoreV1Api", name=node_name)) if node_name else None
        )
        return pod, node

    async def _driver_pod(self, application: Mapping[str, Any]) -> dict[str, Any] | None:
        namespace = application["metadata"]["namespace"]
        return await self._best_effort(  # type: ignore[no-any-return]
            self._get_or_none(
                "read_namespaced_pod", "CoreV1Api", name=driver_pod_name(application), namespace=namespace
            )
        )

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
        pod = await self._driver_pod(application) or seen_pod
        events: list[dict[str, Any]] = []
        for name in (driver_pod_name(application), application["metadata"]["name"]):
            found = await self._best_effort(
                self._json(
                    "list_namespaced_event",
                    "CoreV1Api",
                    namespace=namespace,
                    field_selector=f"involvedObject.name={name}",
                )
            )
            events += (found or {}).get("items", [])
        node_name = ((pod or {}).get("spec") or {}).get("nodeName")
        node: dict[str, Any] | None = None
        if node_name:
            node = await self._best_effort(self._get_or_none("read_node", "CoreV1Api", name=node_name)) or seen_node
            found = await self._best_effort(
                self._json(
                    "list_event_for_all_namespaces",
                    "CoreV1Api",
                    field_selector=f"involvedObject.kind=Node,involvedObject.name={node_name}",
                )
            )
            events += (found or {}).get("items", [])
        return {
            "driver_pod": pod,
            "events": events,
            "node_labels": ((node or {}).get("metadata") or {}).get("labels") or {},
            "node_taints": ((node or {}).get("spec") or {}).get("taints") or [],
        }

    async def _best_effort(self, pending: Any) -> Any:
        try:
            return await pending
        except Exception as exc:
            if status_of(exc) in (403, NOT_FOUND):
                return None
            raise
