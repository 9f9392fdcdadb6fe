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
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from airflow_eks_data.outcomes.retrying import UNAUTHORIZED, Backoff, api_error

log = logging.getLogger(__name__)

GONE = 410
LIST_PAGE = 200
WATCH_SECONDS = 290  # under the API server's default request timeout, so streams end cleanly
WATCH_BACKOFF = Backoff(max_tries=1, base_seconds=0.5, cap_seconds=30.0)
"""Pause before re-listing or re-watching after a failure; the watch itself never gives up."""

Update = dict[str, Any] | None
"""The application as last seen, or None when it was deleted."""
HookFactory = Callable[[], Any]


class Inbox:
    """Updates one subscriber has not read yet. An `asyncio.Queue` (four deques and an Event) and
    `asyncio.wait_for` (a task per wait) cost kilobytes per subscriber; ten thousand waits hold this."""

    __slots__ = ("_items", "_waiter", "fallback_seconds")

    def __init__(self, fallback_seconds: float) -> None:
        self._items: list[Update] = []
        self._waiter: asyncio.Future[None] | None = None
        self.fallback_seconds = fallback_seconds
        """How often the subscriber looks for itself while the watch is down (its poll interval)."""

    def put(self, update: Update) -> None:
        self._items.append(update)
        self.wake()

    def wake(self) -> None:
        """End a pending `get` with `TimeoutError` if nothing came: the watch went down."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self, timeout: float | None) -> Update:
        """The oldest unread update; `TimeoutError` if none comes within `timeout` seconds (None: no
        timer at all, only an update or a `wake` ends the wait)."""
        if not self._items:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(timeout, _wake, waiter) if timeout is not None else None
            try:
                await waiter
            finally:
                if timer is not None:
                    timer.cancel()
                self._waiter = None
            if not self._items:
                raise TimeoutError
        return self._items.pop(0)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ApplicationWatch:
    """List+watch of one namespace, fanned out to per-application subscriber inboxes."""

    def __init__(self, namespace: str, hook_factory: HookFactory) -> None:
        self.namespace = namespace
        self.hook = hook_factory()
        """Shared by every trigger of this namespace: one API client, however many waits."""
        self.cache: dict[str, dict[str, Any]] = {}
        self.subscribers: dict[str, set[Inbox]] = {}
        self.synced = asyncio.Event()
        self.healthy_since: float | None = None
        self._fell_back = False
        """Subscribers were woken for this outage already (once per outage, not per retry)."""
        self.requests = 0
        self.rng = random.Random()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"spark-watch-{self.namespace}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.hook.close()

    def add(self, name: str, fallback_seconds: float) -> Inbox:
        inbox = Inbox(fallback_seconds)
        self.subscribers.setdefault(name, set()).add(inbox)
        if name in self.cache:
            inbox.put(self.cache[name])
        return inbox

    def remove(self, name: str, inbox: Inbox) -> None:
        inboxes = self.subscribers.get(name, set())
        inboxes.discard(inbox)
        if not inboxes:
            self.subscribers.pop(name, None)

    @property
    def healthy(self) -> bool:
        return self.healthy_since is not None

    def _fall_back(self) -> None:
        """The watch went down (or never came up): wake every parked subscriber, each at a random point
        of its poll interval, so that they look for themselves without ten thousand GETs landing at once."""
        if self._fell_back:
            return
        self._fell_back = True
        loop = asyncio.get_running_loop()
        for inboxes in self.subscribers.values():
            for inbox in inboxes:
                loop.call_later(self.rng.uniform(0, inbox.fallback_seconds), inbox.wake)

    def _publish(self, name: str, update: Update) -> None:
        for inbox in self.subscribers.get(name, ()):
            inbox.put(update)

    async def _sync(self, hook: Any) -> str:
        """List the namespace a page at a time, keeping only the slim form of each application: a full
        list of a thousand applications is tens of megabytes of objects. Returns the version to watch
        from (the snapshot's: every page of one list shares it)."""
        fresh: dict[str, dict[str, Any]] = {}
        version, token = None, None
        while True:
            page = await hook.list_applications(self.namespace, limit=LIST_PAGE, continue_token=token)
            version = version or str(page["metadata"]["resourceVersion"])
            fresh.update((item["metadata"]["name"], _slim(item)) for item in page.get("items", []))
            token = page["metadata"].get("continue")
            if not token:
                break
        self._replace(fresh)
        return version

    def _replace(self, fresh: dict[str, dict[str, Any]]) -> None:
        """A fresh list: publish what changed while we were not watching, including deletions."""
        for name in self.cache.keys() - fresh.keys():
            self._publish(name, None)
        for name, item in fresh.items():
            if (
                self.cache.get(name, {}).get("metadata", {}).get("resourceVersion")
                != item["metadata"]["resourceVersion"]
            ):
                self._publish(name, item)
        self.cache = fresh
        for name in self.subscribers.keys() - fresh.keys():  # not listed: let them look for themselves
            for inbox in self.subscribers[name]:
                inbox.wake()

    async def _run(self) -> None:
        hook = self.hook
        resource_version: str | None = None
        failures = 0
        while True:
            try:
                if resource_version is None:
                    self.requests += 1
                    resource_version = await self._sync(hook)
                    self.synced.set()
                self.requests += 1
                self.healthy_since = self.healthy_since or time.monotonic()
                self._fell_back = False
                async for event in hook.watch_applications(self.namespace, str(resource_version), WATCH_SECONDS):
                    resource_version = self._apply(event) or resource_version
                    failures = 0
            except asyncio.CancelledError:
                raise
            except _Gone:
                resource_version = None
            except Exception as exc:
                err = api_error(exc)
                status = err.status
                if status == GONE:
                    resource_version = None
                    continue
                self.healthy_since = None
                self._fall_back()
                failures += 1
                if status == UNAUTHORIZED:
                    hook.renew()
                log.warning("Watch of SparkApplications in %s failed (%s); retrying", self.namespace, exc)
                await asyncio.sleep(WATCH_BACKOFF.delay(min(failures, 8), self.rng, err.retry_after_seconds))

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


STATUS_KEYS = (
    "applicationState",
    "executorState",
    "sparkApplicationId",
    "lastSubmissionAttemptTime",
    "terminationTime",
)
"""What classification, links and usage read of an application's status (`outcomes`, `observability`)."""


def _slim(application: dict[str, Any]) -> dict[str, Any]:
    """What waiting needs of an application: its identity and the status fields that are read, not its
    spec (kilobytes each, times every application in the namespace)."""
    meta = application.get("metadata") or {}
    keep = ("name", "namespace", "resourceVersion", "creationTimestamp", "deletionTimestamp")
    return {"metadata": {k: meta[k] for k in keep if k in meta}, "status": slim_status(application.get("status"))}


def slim_status(status: dict[str, Any] | None) -> dict[str, Any]:
    status = status or {}
    slim = {key: status[key] for key in STATUS_KEYS if key in status}
    pod = (status.get("driverInfo") or {}).get("podName")
    if pod:
        slim["driverInfo"] = {"podName": pod}
    return slim


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
        self, key: tuple[Any, ...], namespace: str, name: str, hook_factory: HookFactory, fallback_seconds: float
    ) -> AsyncIterator[tuple[ApplicationWatch, Inbox]]:
        slot = (id(asyncio.get_running_loop()), key)
        watch = self._watches.get(slot)
        if watch is None:
            watch = self._watches[slot] = ApplicationWatch(namespace, hook_factory)
            watch.start()
        inbox = watch.add(name, fallback_seconds)
        try:
            yield watch, inbox
        finally:
            watch.remove(name, inbox)
            if not watch.subscribers and self._watches.get(slot) is watch:
                del self._watches[slot]
                await watch.stop()


REGISTRY = WatchRegistry()
