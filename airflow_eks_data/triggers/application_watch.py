"""One watch of SparkApplications per (connection, namespace), shared by every trigger waiting there.

A triggerer waiting on a thousand applications opens one list+watch stream per namespace instead of
polling each application: the API load stays flat however many jobs wait. The watch resumes from
the last resourceVersion when the stream drops, lists again after `410 Gone`, and renews credentials
after a 401. Each subscriber gets the application's latest object (or None once it is deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from airflow_eks_data.utils.retries import RetryPolicy, status_of

log = logging.getLogger(__name__)

GONE = 410
UNAUTHORIZED = 401
WATCH_SECONDS = 290  # under the API server's default request timeout, so streams end cleanly

Update = dict[str, Any] | None
"""The application as last seen, or None when it was deleted."""
HookFactory = Callable[[], Any]


class ApplicationWatch:
    """List+watch of one namespace, fanned out to per-application subscriber queues."""

    def __init__(self, namespace: str, hook_factory: HookFactory) -> None:
        self.namespace = namespace
        self.hook = hook_factory()
        """Shared by every trigger of this namespace: one API client, however many waits."""
        self.cache: dict[str, dict[str, Any]] = {}
        self.subscribers: dict[str, set[asyncio.Queue[Update]]] = {}
        self.synced = asyncio.Event()
        self.healthy_since: float | None = None
        self.requests = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"spark-watch-{self.namespace}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.hook.close()

    def add(self, name: str) -> asyncio.Queue[Update]:
        queue: asyncio.Queue[Update] = asyncio.Queue()
        self.subscribers.setdefault(name, set()).add(queue)
        if name in self.cache:
            queue.put_nowait(self.cache[name])
        return queue

    def remove(self, name: str, queue: asyncio.Queue[Update]) -> None:
        queues = self.subscribers.get(name, set())
        queues.discard(queue)
        if not queues:
            self.subscribers.pop(name, None)

    @property
    def healthy(self) -> bool:
        return self.healthy_since is not None

    def _publish(self, name: str, update: Update) -> None:
        for queue in self.subscribers.get(name, ()):
            queue.put_nowait(update)

    def _replace(self, items: list[dict[str, Any]]) -> None:
        """A fresh list: publish what changed while we were not watching, including deletions."""
        fresh = {item["metadata"]["name"]: _slim(item) for item in items}
        for name in self.cache.keys() - fresh.keys():
            self._publish(name, None)
        for name, item in fresh.items():
            if (
                self.cache.get(name, {}).get("metadata", {}).get("resourceVersion")
                != item["metadata"]["resourceVersion"]
            ):
                self._publish(name, item)
        self.cache = fresh

    async def _run(self) -> None:
        hook = self.hook
        policy = RetryPolicy(attempts=1_000_000, base=0.5, cap=30.0)
        resource_version: str | None = None
        failures = 0
        while True:
            try:
                if resource_version is None:
                    self.requests += 1
                    listing = await hook.list_applications(self.namespace)
                    resource_version = listing["metadata"]["resourceVersion"]
                    self._replace(listing.get("items", []))
                    self.synced.set()
                self.requests += 1
                self.healthy_since = self.healthy_since or time.monotonic()
                async for event in hook.watch_applications(self.namespace, str(resource_version), WATCH_SECONDS):
                    resource_version = self._apply(event) or resource_version
                    failures = 0
            except asyncio.CancelledError:
                raise
            except _Gone:
                resource_version = None
            except Exception as exc:
                status = status_of(exc)
                if status == GONE:
                    resource_version = None
                    continue
                self.healthy_since = None
                failures += 1
                if status == UNAUTHORIZED:
                    hook.renew()
                log.warning("Watch of SparkApplications in %s failed (%s); retrying", self.namespace, exc)
                await asyncio.sleep(policy.delay(min(failures, 8)))

    def _apply(self, event: dict[str, Any]) -> str | None:
        """Apply one watch event; return the resourceVersion to resume from."""
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == GONE:
                raise _Gone
            raise RuntimeError(f"watch error: {obj.get('message')}")
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if kind == "BOOKMARK":
            return str(version) if version else None
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self.cache.pop(name, None)
            self._publish(name, None)
        else:
            self.cache[name] = _slim(obj)
            self._publish(name, self.cache[name])
        return str(version) if version else None


def _slim(application: dict[str, Any]) -> dict[str, Any]:
    """What waiting needs of an application: its identity and status, not its spec (kilobytes each,
    times every application in the namespace)."""
    meta = application.get("metadata") or {}
    keep = ("name", "namespace", "resourceVersion", "creationTimestamp", "deletionTimestamp", "labels")
    return {"metadata": {k: meta[k] for k in keep if k in meta}, "status": application.get("status") or {}}


class _Gone(Exception):
    """The resourceVersion we resume from is too old: list again."""


class WatchRegistry:
    """Process-wide registry: one `ApplicationWatch` per (event loop, key), alive while subscribed."""

    def __init__(self) -> None:
        self._watches: dict[tuple[int, tuple[Any, ...]], ApplicationWatch] = {}

    def get(self, key: tuple[Any, ...]) -> ApplicationWatch | None:
        return self._watches.get((id(asyncio.get_running_loop()), key))

    @contextlib.asynccontextmanager
    async def subscribe(
        self, key: tuple[Any, ...], namespace: str, name: str, hook_factory: HookFactory
    ) -> AsyncIterator[tuple[ApplicationWatch, asyncio.Queue[Update]]]:
        slot = (id(asyncio.get_running_loop()), key)
        watch = self._watches.get(slot)
        if watch is None:
            watch = self._watches[slot] = ApplicationWatch(namespace, hook_factory)
            watch.start()
        queue = watch.add(name)
        try:
            yield watch, queue
        finally:
            watch.remove(name, queue)
            if not watch.subscribers and self._watches.get(slot) is watch:
                del self._watches[slot]
                await watch.stop()


REGISTRY = WatchRegistry()
