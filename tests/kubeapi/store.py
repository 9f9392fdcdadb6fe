"""Objects, one global resourceVersion, a bounded change history per type, and watch fan-out.

Everything here runs on the server's event loop and never awaits, so a write, its watch events
and the reactions of in-process controllers happen in one step, in resourceVersion order.
Stored objects are never mutated in place: every write commits a fresh copy, so a snapshot handed
to a watcher or a listener stays valid.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.kubeapi.clock import SimClock
from tests.kubeapi.errors import ApiError
from tests.kubeapi.resources import BY_PLURAL, RESOURCE_TYPES, ResourceType
from tests.kubeapi.selectors import Matcher

Obj = dict[str, Any]


def clone(value: Any) -> Any:
    """Deep copy for JSON-shaped data (several times faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


@dataclass
class Change:
    """One committed write, as kept in history and fanned out to watchers."""

    rv: int
    type: str  # ADDED, MODIFIED or DELETED (ERROR: the 410 that ends a watch, see expire_watches)
    obj: Obj
    prev: Obj | None
    _wire: dict[str, bytes] = field(default_factory=dict)

    def wire(self, event_type: str) -> bytes:
        """The newline-terminated watch line, encoded once per event type for all watchers."""
        line = self._wire.get(event_type)
        if line is None:
            line = json.dumps({"type": event_type, "object": self.obj}).encode() + b"\n"
            self._wire[event_type] = line
        return line


@dataclass(eq=False)
class Watcher:
    """A registered watch: its filter and the queue its HTTP stream drains."""

    rtype: ResourceType
    namespace: str | None
    matcher: Matcher
    name: str | None = None  # set when the field selector pins metadata.name (indexed fan-out)
    queue: asyncio.Queue[tuple[str, Change]] = field(default_factory=asyncio.Queue)

    def _visible(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace") != self.namespace:
            return False
        return self.matcher(obj)

    def offer(self, change: Change) -> None:
        """Queue ``change`` as this watcher sees it: selectors turn updates into ADDED/DELETED."""
        now = self._visible(change.obj)
        if change.type == "ADDED":
            if now:
                self.queue.put_nowait(("ADDED", change))
            return
        if change.type == "DELETED":
            if now or self._visible(change.prev):
                self.queue.put_nowait(("DELETED", change))
            return
        before = self._visible(change.prev)
        if before and now:
            self.queue.put_nowait(("MODIFIED", change))
        elif now:
            self.queue.put_nowait(("ADDED", change))
        elif before:
            self.queue.put_nowait(("DELETED", change))


Listener = Callable[[ResourceType, Change], None]


class Store:
    """In-memory object store of every served resource type."""

    def __init__(self, clock: SimClock, history_size: int = 10_000) -> None:
        self.clock = clock
        self.rv = 1
        self.history_size = history_size
        self.objects: dict[str, dict[tuple[str, str], Obj]] = {rt.plural: {} for rt in RESOURCE_TYPES}
        # The same objects by plural, then namespace, then name: a namespace's list reads its own
        # objects, not every namespace's (ten thousand applications over twenty namespaces).
        self.by_namespace: dict[str, dict[str, dict[str, Obj]]] = {rt.plural: {} for rt in RESOURCE_TYPES}
        self.history: dict[str, deque[Change]] = {rt.plural: deque() for rt in RESOURCE_TYPES}
        self.compacted: dict[str, int] = {rt.plural: 0 for rt in RESOURCE_TYPES}
        self.watchers: dict[str, set[Watcher]] = {rt.plural: set() for rt in RESOURCE_TYPES}
        # Watchers pinned to one object name, by plural then name: a thousand triggers each
        # watching their own app cost one dict lookup per write instead of a thousand matches.
        self.named_watchers: dict[str, dict[str, set[Watcher]]] = {rt.plural: {} for rt in RESOURCE_TYPES}
        self.listeners: list[Listener] = []
        # owner uid -> (plural, namespace, name) of dependents, for GC and "pods of this driver".
        self._owned: dict[str, set[tuple[str, str, str]]] = {}

    # ---- reads -------------------------------------------------------------------------------

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj | None:
        return self.objects[rtype.plural].get((namespace if rtype.namespaced else "", name))

    def require(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.get(rtype, namespace, name)
        if obj is None:
            raise ApiError.not_found(rtype.plural, rtype.group, name)
        return obj

    def list(self, rtype: ResourceType, namespace: str | None, matcher: Matcher | None = None) -> list[Obj]:
        if namespace is None or not rtype.namespaced:
            candidates: Iterable[Obj] = self.objects[rtype.plural].values()
        else:
            candidates = self.by_namespace[rtype.plural].get(namespace, {}).values()
        items = [obj for obj in candidates if matcher is None or matcher(obj)]
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return items

    # ---- writes ------------------------------------------------------------------------------

    def _commit(self, rtype: ResourceType, change_type: str, obj: Obj, prev: Obj | None) -> Change:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        in_namespace = self.by_namespace[rtype.plural].setdefault(key[0], {})
        if change_type == "DELETED":
            self.objects[rtype.plural].pop(key, None)
            in_namespace.pop(key[1], None)
        else:
            self.objects[rtype.plural][key] = obj
            in_namespace[key[1]] = obj
        self._index_owners(rtype.plural, key, prev, None if change_type == "DELETED" else obj)
        change = Change(self.rv, change_type, obj, prev)
        history = self.history[rtype.plural]
        history.append(change)
        while len(history) > self.history_size:
            self.compacted[rtype.plural] = history.popleft().rv
        for watcher in self.watchers[rtype.plural]:
            watcher.offer(change)
        for watcher in self.named_watchers[rtype.plural].get(obj["metadata"]["name"], ()):
            watcher.offer(change)
        for listener in list(self.listeners):
            listener(rtype, change)
        return change

    def create(self, rtype: ResourceType, namespace: str, body: Obj) -> Obj:
        """Create ``body``: fill uid, timestamps and generateName, reject duplicates with 409."""
        obj: Obj = clone(body)
        obj["apiVersion"] = rtype.api_version
        obj["kind"] = rtype.kind
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise ApiError(422, f"{rtype.kind}.{rtype.group or 'core'} is invalid: metadata.name: Required value")
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if rtype.namespaced:
            if meta.get("namespace") not in (None, namespace):
                raise ApiError.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if self.get(rtype, namespace, meta["name"]) is not None:
            raise ApiError.already_exists(rtype.plural, rtype.group, meta["name"])
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock.timestamp()
        meta["generation"] = 1
        meta.pop("deletionTimestamp", None)
        self._commit(rtype, "ADDED", obj, None)
        return obj

    def replace(self, rtype: ResourceType, obj: Obj, *, check_version: bool = True) -> Obj:
        """Commit ``obj`` over the stored one (optimistic concurrency on ``resourceVersion``)."""
        meta = obj["metadata"]
        prev = self.require(rtype, meta.get("namespace", ""), meta["name"])
        wanted = meta.get("resourceVersion")
        if check_version and wanted and wanted != prev["metadata"]["resourceVersion"]:
            raise ApiError.conflict(rtype.plural, rtype.group, meta["name"])
        for immutable in ("uid", "creationTimestamp", "namespace"):
            if immutable in prev["metadata"]:
                meta[immutable] = prev["metadata"][immutable]
        obj["apiVersion"] = rtype.api_version
        obj["kind"] = rtype.kind
        body_changed = {k: v for k, v in obj.items() if k not in ("metadata", "status")} != {
            k: v for k, v in prev.items() if k not in ("metadata", "status")
        }
        meta["generation"] = prev["metadata"].get("generation", 1) + (1 if body_changed else 0)
        if obj == prev:
            return prev  # a no-op write does not bump resourceVersion, as on a real server
        self._commit(rtype, "MODIFIED", obj, prev)
        return obj

    def mutate(self, rtype: ResourceType, namespace: str, name: str, fn: Callable[[Obj], None]) -> Obj | None:
        """Apply ``fn`` to a copy of the object and commit it; ``None`` if it no longer exists."""
        current = self.get(rtype, namespace, name)
        if current is None:
            return None
        obj: Obj = clone(current)
        fn(obj)
        return self.replace(rtype, obj, check_version=False)

    def delete(self, rtype: ResourceType, namespace: str, name: str, propagation: str = "Background") -> Obj:
        """Delete an object and, unless orphaning, everything it owns (ownerReferences)."""
        obj = self.require(rtype, namespace, name)
        uid = obj["metadata"]["uid"]
        if propagation == "Orphan":
            for dep_type, dep in self._dependents(uid):
                self.mutate(dep_type, dep["metadata"].get("namespace", ""), dep["metadata"]["name"], _drop_owner(uid))
            return self._remove(rtype, obj)
        if propagation == "Foreground":
            marked: Obj = clone(obj)
            marked["metadata"]["deletionTimestamp"] = self.clock.timestamp()
            marked["metadata"]["finalizers"] = [*marked["metadata"].get("finalizers", []), "foregroundDeletion"]
            obj = self.replace(rtype, marked, check_version=False)
            self._delete_dependents(uid, propagation)
            self._remove(rtype, obj)
            return obj
        removed = self._remove(rtype, obj)
        self._delete_dependents(uid, propagation)
        return removed

    def _remove(self, rtype: ResourceType, obj: Obj) -> Obj:
        final: Obj = clone(obj)
        final["metadata"].setdefault("deletionTimestamp", self.clock.timestamp())
        self._commit(rtype, "DELETED", final, obj)
        if rtype.plural == "namespaces":
            for other in RESOURCE_TYPES:
                if other.namespaced:
                    for item in self.list(other, final["metadata"]["name"]):
                        self._remove(other, item)
        return final

    def _index_owners(self, plural: str, key: tuple[str, str], prev: Obj | None, obj: Obj | None) -> None:
        entry = (plural, *key)
        for old in (prev or {}).get("metadata", {}).get("ownerReferences") or []:
            owned = self._owned.get(old.get("uid", ""))
            if owned is not None:
                owned.discard(entry)
                if not owned:
                    del self._owned[old["uid"]]
        for ref in (obj or {}).get("metadata", {}).get("ownerReferences") or []:
            self._owned.setdefault(ref.get("uid", ""), set()).add(entry)

    def owned_by(self, uid: str) -> builtins.list[tuple[ResourceType, Obj]]:
        """Objects whose ownerReferences name ``uid`` (indexed, so GC is not a full scan)."""
        found: builtins.list[tuple[ResourceType, Obj]] = []
        for plural, namespace, name in sorted(self._owned.get(uid, ())):
            obj = self.objects[plural].get((namespace, name))
            if obj is not None:
                found.append((BY_PLURAL[plural], obj))
        return found

    def _dependents(self, uid: str) -> Iterable[tuple[ResourceType, Obj]]:
        return self.owned_by(uid)

    def _delete_dependents(self, uid: str, propagation: str) -> None:
        for dep_type, dep in self._dependents(uid):
            meta = dep["metadata"]
            if self.get(dep_type, meta.get("namespace", ""), meta["name"]) is not None:
                self.delete(dep_type, meta.get("namespace", ""), meta["name"], propagation)

    # ---- watch -------------------------------------------------------------------------------

    def watch(
        self,
        rtype: ResourceType,
        namespace: str | None,
        matcher: Matcher,
        since: int | None,
        name: str | None = None,
    ) -> Watcher:
        """Register a watcher, pre-filled with what it missed since ``since`` (or current state).

        Raises 410 ``Expired`` when ``since`` is older than the retained history.
        """
        watcher = Watcher(rtype, namespace, matcher, name)
        if since is None or since == 0:
            for obj in self.list(rtype, namespace, matcher):
                rv = int(obj["metadata"]["resourceVersion"])
                watcher.queue.put_nowait(("ADDED", Change(rv, "ADDED", obj, None)))
        else:
            oldest = self.compacted[rtype.plural]
            if since < oldest:
                raise ApiError.gone(since, oldest + 1)
            for change in self.history[rtype.plural]:
                if change.rv > since:
                    watcher.offer(change)
        if name is None:
            self.watchers[rtype.plural].add(watcher)
        else:
            self.named_watchers[rtype.plural].setdefault(name, set()).add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        plural = watcher.rtype.plural
        if watcher.name is None:
            self.watchers[plural].discard(watcher)
            return
        named = self.named_watchers[plural].get(watcher.name)
        if named is not None:
            named.discard(watcher)
            if not named:
                del self.named_watchers[plural][watcher.name]

    def compact(self) -> None:
        """Forget all history, as etcd compaction does: every older resourceVersion becomes 410."""
        for plural, history in self.history.items():
            history.clear()
            self.compacted[plural] = self.rv

    def expire_watches(self) -> int:
        """Compact, and end every open watch with `410 Expired`, so that every client lists again.
        Returns how many watches were ended."""
        self.compact()
        watchers = [w for plural in self.watchers for w in self.watchers[plural]]
        watchers += [w for named in self.named_watchers.values() for ws in named.values() for w in ws]
        gone = Change(self.rv, "ERROR", ApiError.gone(self.rv, self.rv + 1).body, None)
        for watcher in watchers:
            watcher.queue.put_nowait(("ERROR", gone))
        return len(watchers)


def _drop_owner(uid: str) -> Callable[[Obj], None]:
    def fn(obj: Obj) -> None:
        refs = [r for r in obj["metadata"].get("ownerReferences", []) if r.get("uid") != uid]
        if refs:
            obj["metadata"]["ownerReferences"] = refs
        else:
            obj["metadata"].pop("ownerReferences", None)

    return fn
