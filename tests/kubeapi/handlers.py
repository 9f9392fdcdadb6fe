"""REST semantics of the Kubernetes API for every served type: CRUD, patch, status, watch, log.

Request parsing and responses live here; storage, selectors and admission are their own modules.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import jsonpatch
import yaml
from aiohttp import web

from tests.kubeapi.errors import ApiError, status_body
from tests.kubeapi.faults import Faults
from tests.kubeapi.logs import LogStore, rfc3339_nano
from tests.kubeapi.resources import BY_PLURAL, ResourceType, lookup
from tests.kubeapi.selectors import make_matcher, selected_name
from tests.kubeapi.store import Obj, Store, clone

if TYPE_CHECKING:
    from tests.kubeapi.admission import CrdAdmission

JSON = "application/json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Target:
    """A parsed resource URL: ``/api/v1/namespaces/ns/pods/name/log``."""

    rtype: ResourceType
    namespace: str | None
    name: str | None
    sub: str | None

    @property
    def resource(self) -> str:
        return f"{self.rtype.plural}/{self.sub}" if self.sub else self.rtype.plural


def parse_target(path: str) -> Target | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        inner = lookup(group, version, rest[2])
        if inner is not None and inner.namespaced:
            namespace, rest = rest[1], rest[2:]
    rtype = lookup(group, version, rest[0])
    if rtype is None or len(rest) > 3:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in rtype.subresources:
        return None
    return Target(rtype, namespace, name, sub)


def verb_of(method: str, target: Target, query: dict[str, str]) -> str:
    if method == "GET":
        if target.name is not None:
            return "get"
        return "watch" if query.get("watch", "").lower() in ("true", "1") else "list"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if target.name is not None else "deletecollection",
    }.get(method, method.lower())


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(body).encode(), status=status, content_type=JSON, headers=headers)


def error_response(error: ApiError) -> web.Response:
    return json_response(error.body, error.code, error.headers)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class Api:
    """Handlers bound to one store; the router calls ``handle`` with a parsed target."""

    def __init__(
        self,
        store: Store,
        logs: LogStore,
        faults: Faults,
        admission: CrdAdmission | None,
        auto_namespaces: bool,
    ) -> None:
        self.store = store
        self.logs = logs
        self.faults = faults
        self.admission = admission
        self.auto_namespaces = auto_namespaces
        self.bookmark_interval = 60.0
        self.watch_default_timeout = 1800.0
        self.stopping = asyncio.Event()

    async def handle(self, request: web.Request, target: Target, verb: str) -> web.StreamResponse:
        handler: Callable[[web.Request, Target], Awaitable[web.StreamResponse]] = getattr(self, f"_{verb}")
        return await handler(request, target)

    # ---- helpers -----------------------------------------------------------------------------

    def _ns(self, target: Target) -> str:
        return target.namespace or "" if target.rtype.namespaced else ""

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            if request.content_type == APPLY or raw.lstrip()[:1] not in (b"{", b"["):
                return yaml.safe_load(raw)
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError.bad_request(f"the body of the request could not be decoded: {exc}") from exc

    def _check_namespace(self, target: Target) -> None:
        if not target.rtype.namespaced or target.namespace is None:
            return
        namespaces = BY_PLURAL["namespaces"]
        if self.store.get(namespaces, "", target.namespace) is None:
            if not self.auto_namespaces:
                raise ApiError.not_found("namespaces", "", target.namespace)
            self.store.create(namespaces, "", {"metadata": {"name": target.namespace}, "status": {"phase": "Active"}})

    def _admit(self, target: Target, obj: Obj, request: web.Request) -> list[str]:
        if self.admission is None or target.rtype.plural != self.admission.plural:
            return []
        return self.admission.admit(obj, strict=request.query.get("fieldValidation") == "Strict")

    @staticmethod
    def _with_warnings(response: web.StreamResponse, warnings: list[str]) -> web.StreamResponse:
        for warning in warnings:
            response.headers.add("Warning", warning)
        return response

    # ---- reads -------------------------------------------------------------------------------

    async def _get(self, request: web.Request, target: Target) -> web.StreamResponse:
        assert target.name is not None
        if target.sub == "log":
            return await self._log(request, target)
        return json_response(self.store.require(target.rtype, self._ns(target), target.name))

    async def _list(self, request: web.Request, target: Target) -> web.StreamResponse:
        query = request.query
        matcher = make_matcher(query.get("labelSelector"), query.get("fieldSelector"))
        items = self.store.list(target.rtype, target.namespace, matcher)
        meta: dict[str, Any] = {"resourceVersion": str(self.store.rv)}
        offset = 0
        if query.get("continue"):
            try:
                offset = int(base64.b64decode(query["continue"]).decode())
            except ValueError as exc:
                raise ApiError.bad_request("continue key is not valid") from exc
        limit = int(query.get("limit") or 0)
        if limit and len(items) > offset + limit:
            meta["continue"] = base64.b64encode(str(offset + limit).encode()).decode()
            meta["remainingItemCount"] = len(items) - offset - limit
            items = items[offset : offset + limit]
        else:
            items = items[offset:]
        rtype = target.rtype
        return json_response(
            {"kind": f"{rtype.kind}List", "apiVersion": rtype.api_version, "metadata": meta, "items": items}
        )

    async def _watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        query = request.query
        matcher = make_matcher(query.get("labelSelector"), query.get("fieldSelector"))
        since_text = query.get("resourceVersion", "")
        since = int(since_text) if since_text.isdigit() else None
        response = web.StreamResponse(status=200, headers={"Content-Type": JSON})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            if self.faults.gone_on_rewatch and since:
                raise ApiError.gone(since, self.store.rv)
            name = selected_name(query.get("fieldSelector"))
            watcher = self.store.watch(target.rtype, target.namespace, matcher, since, name)
        except ApiError as exc:
            await response.write(json.dumps({"type": "ERROR", "object": exc.body}).encode() + b"\n")
            await response.write_eof()
            return response
        timeout = float(query.get("timeoutSeconds") or self.watch_default_timeout)
        cut_events = self.faults.watch_cut_after_events
        cut_seconds = self.faults.watch_cut_after_seconds
        if cut_seconds is not None:
            timeout = min(timeout, cut_seconds)
        bookmarks = query.get("allowWatchBookmarks", "").lower() in ("true", "1")
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + self.bookmark_interval
        sent = 0
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            while (now := time.monotonic()) < deadline and not self.stopping.is_set():
                wait_for = deadline - now
                if bookmarks:
                    wait_for = min(wait_for, max(0.0, next_bookmark - now))
                if watcher.queue.empty():
                    getter = asyncio.ensure_future(watcher.queue.get())
                    done, _ = await asyncio.wait({getter, stop}, timeout=wait_for, return_when=asyncio.FIRST_COMPLETED)
                    if getter not in done:
                        getter.cancel()
                        if bookmarks and time.monotonic() >= next_bookmark:
                            await response.write(self._bookmark(target.rtype))
                            next_bookmark = time.monotonic() + self.bookmark_interval
                        continue
                    event_type, change = getter.result()
                else:
                    event_type, change = watcher.queue.get_nowait()
                await response.write(change.wire(event_type))
                if event_type == "ERROR":  # Store.expire_watches: the stream ends after the error
                    break
                sent += 1
                if cut_events is not None and sent >= cut_events:
                    break
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            stop.cancel()
            self.store.unwatch(watcher)
        return response

    def _bookmark(self, rtype: ResourceType) -> bytes:
        obj = {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": {"resourceVersion": str(self.store.rv)}}
        return json.dumps({"type": "BOOKMARK", "object": obj}).encode() + b"\n"

    async def _log(self, request: web.Request, target: Target) -> web.StreamResponse:
        assert target.name is not None and target.namespace is not None
        pod = self.store.require(target.rtype, target.namespace, target.name)
        names = [c["name"] for c in pod["spec"].get("containers", [])]
        container = request.query.get("container")
        if not container:
            if len(names) != 1:
                raise ApiError.bad_request(
                    f"a container name must be specified for pod {target.name}, choose one of: [{' '.join(names)}]"
                )
            container = names[0]
        if container not in names:
            raise ApiError.bad_request(f"container {container} is not valid for pod {target.name}")
        statuses = {cs["name"]: cs for cs in pod.get("status", {}).get("containerStatuses", [])}
        state = statuses.get(container, {}).get("state", {"waiting": {"reason": "ContainerCreating"}})
        if "waiting" in state:
            reason = state["waiting"].get("reason", "ContainerCreating")
            raise ApiError.bad_request(f'container "{container}" in pod "{target.name}" is waiting to start: {reason}')
        log = self.logs.get(target.namespace, target.name, container)
        tail = request.query.get("tailLines")
        stamps = request.query.get("timestamps", "").lower() in ("true", "1")
        follow = request.query.get("follow", "").lower() in ("true", "1")

        def render(lines: list[tuple[datetime, str]]) -> bytes:
            return "".join(f"{rfc3339_nano(ts)} {text}\n" if stamps else f"{text}\n" for ts, text in lines).encode()

        lines = log.lines
        since = self._log_since(request)
        if since is not None:
            lines = [entry for entry in lines if entry[0] >= since]
        if tail is not None:
            lines = lines[-int(tail) :] if int(tail) > 0 else []
        if not follow:
            body = render(lines)
            if request.query.get("limitBytes"):
                body = body[: int(request.query["limitBytes"])]
            return web.Response(body=body, content_type="text/plain")
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        position = len(log.lines)
        try:
            await response.write(render(lines))
            while True:
                changed = log.changed
                if len(log.lines) > position:
                    fresh, position = log.lines[position:], len(log.lines)
                    await response.write(render(fresh))
                    continue
                if log.closed or self.stopping.is_set():
                    break
                await log.wait(changed, 1.0)
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    def _log_since(self, request: web.Request) -> datetime | None:
        """``sinceSeconds`` (relative to the object clock) or ``sinceTime`` (RFC 3339)."""
        if request.query.get("sinceSeconds"):
            return self.store.clock.wall() - timedelta(seconds=int(request.query["sinceSeconds"]))
        if request.query.get("sinceTime"):
            return datetime.fromisoformat(request.query["sinceTime"].replace("Z", "+00:00"))
        return None

    # ---- writes ------------------------------------------------------------------------------

    async def _create(self, request: web.Request, target: Target) -> web.StreamResponse:
        if target.name is not None:
            raise ApiError(405, "the server does not allow this method on the requested resource")
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError.bad_request("Object 'Kind' is missing in request body")
        namespace = target.namespace or body.get("metadata", {}).get("namespace") or "default"
        if not target.rtype.namespaced:
            namespace = ""
        self._check_namespace(Target(target.rtype, namespace or None, None, None))
        warnings = self._admit(target, body, request)
        if target.rtype.plural == "pods":
            body.setdefault("status", {}).setdefault("phase", "Pending")
        if request.query.get("dryRun") == "All":
            return self._with_warnings(json_response(body, 201), warnings)
        obj = self.store.create(target.rtype, namespace, body)
        return self._with_warnings(json_response(obj, 201), warnings)

    def _merge_write(self, target: Target, current: Obj, proposed: Obj) -> Obj:
        """The status subresource writes only status; the main resource never writes status."""
        if target.sub == "status":
            obj: Obj = clone(current)
            if "status" in proposed:
                obj["status"] = proposed["status"]
            else:
                obj.pop("status", None)
            obj["metadata"]["resourceVersion"] = proposed.get("metadata", {}).get("resourceVersion")
            return obj
        obj = proposed
        if "status" in target.rtype.subresources:
            if "status" in current:
                obj["status"] = clone(current["status"])
            else:
                obj.pop("status", None)
        return obj

    async def _update(self, request: web.Request, target: Target) -> web.StreamResponse:
        assert target.name is not None
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError.bad_request("Object 'Kind' is missing in request body")
        current = self.store.require(target.rtype, self._ns(target), target.name)
        body.setdefault("metadata", {})
        if body["metadata"].get("name", target.name) != target.name:
            raise ApiError.bad_request("the name of the object does not match the name on the URL")
        body["metadata"]["name"] = target.name
        if target.rtype.namespaced:
            body["metadata"]["namespace"] = target.namespace
        obj = self._merge_write(target, current, body)
        warnings = self._admit(target, obj, request)
        return self._with_warnings(json_response(self.store.replace(target.rtype, obj)), warnings)

    async def _patch(self, request: web.Request, target: Target) -> web.StreamResponse:
        assert target.name is not None
        content_type = request.content_type
        current = self.store.get(target.rtype, self._ns(target), target.name)
        patch = await self._body(request)
        if content_type == APPLY and current is None:
            return await self._apply_create(request, target, patch)
        if current is None:
            raise ApiError.not_found(target.rtype.plural, target.rtype.group, target.name)
        base: Obj = clone(current)
        if content_type == JSON_PATCH:
            if not isinstance(patch, list):
                raise ApiError.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
            try:
                patched = jsonpatch.apply_patch(base, patch)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise ApiError(422, f"the server rejected our request due to an error in our request: {exc}") from exc
        elif content_type in (MERGE, APPLY) or (content_type == STRATEGIC and not target.rtype.custom):
            if not isinstance(patch, dict):
                raise ApiError.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
            patched = merge_patch(base, patch)
        else:
            raise ApiError(
                415,
                f"the body of the request was in an unknown format - accepted media types include: "
                f"{JSON_PATCH}, {MERGE}, {APPLY}" + ("" if target.rtype.custom else f", {STRATEGIC}"),
            )
        if not isinstance(patched, dict):
            raise ApiError(422, "patch did not produce an object")
        patched.setdefault("metadata", {})["resourceVersion"] = patched.get("metadata", {}).get(
            "resourceVersion", current["metadata"]["resourceVersion"]
        )
        patched["metadata"]["name"] = target.name
        obj = self._merge_write(target, current, patched)
        warnings = self._admit(target, obj, request)
        return self._with_warnings(json_response(self.store.replace(target.rtype, obj)), warnings)

    async def _apply_create(self, request: web.Request, target: Target, patch: Any) -> web.StreamResponse:
        if not isinstance(patch, dict):
            raise ApiError.bad_request("apply patch must be an object")
        patch.setdefault("metadata", {})["name"] = target.name
        warnings = self._admit(target, patch, request)
        self._check_namespace(target)
        obj = self.store.create(target.rtype, self._ns(target) or "default", patch)
        return self._with_warnings(json_response(obj, 201), warnings)

    async def _delete(self, request: web.Request, target: Target) -> web.StreamResponse:
        assert target.name is not None
        options: dict[str, Any] = {}
        raw = await request.read()
        if raw.strip():
            try:
                options = json.loads(raw)
            except ValueError as exc:
                raise ApiError.bad_request(f"invalid DeleteOptions: {exc}") from exc
        propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
        if options.get("orphanDependents") is True:
            propagation = "Orphan"
        if request.query.get("dryRun") == "All" or options.get("dryRun") == ["All"]:
            return json_response(self.store.require(target.rtype, self._ns(target), target.name))
        obj = self.store.delete(target.rtype, self._ns(target), target.name, propagation)
        return json_response(obj, 200)

    async def _deletecollection(self, request: web.Request, target: Target) -> web.StreamResponse:
        matcher = make_matcher(request.query.get("labelSelector"), request.query.get("fieldSelector"))
        removed = []
        for obj in self.store.list(target.rtype, target.namespace, matcher):
            meta = obj["metadata"]
            removed.append(self.store.delete(target.rtype, meta.get("namespace", ""), meta["name"]))
        rtype = target.rtype
        return json_response(
            {
                "kind": f"{rtype.kind}List",
                "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)},
                "items": removed,
            }
        )


def not_found_response(path: str) -> web.Response:
    return json_response(
        status_body(
            404,
            "the server could not find the requested resource",
            details={"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]},
        ),
        404,
    )
