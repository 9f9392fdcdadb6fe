"""Container logs that simulated pods write and ``pods/{name}/log`` serves, including ``follow``."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ContainerLog:
    """Lines of one container; ``closed`` once the container has terminated."""

    lines: list[tuple[datetime, str]] = field(default_factory=list)
    closed: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, timestamp: datetime, text: str) -> None:
        self.lines.append((timestamp, text))
        self._poke()

    def close(self) -> None:
        self.closed = True
        self._poke()

    def _poke(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    @property
    def changed(self) -> asyncio.Event:
        """Set at the next append or close; take it *before* checking for lines, then wait."""
        return self._changed

    @staticmethod
    async def wait(event: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


def rfc3339_nano(moment: datetime) -> str:
    """The kubelet's ``timestamps=true`` prefix format (RFC 3339 with nanoseconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


class LogStore:
    """Logs by (namespace, pod, container); dropped when the pod is deleted."""

    def __init__(self) -> None:
        self._logs: dict[tuple[str, str, str], ContainerLog] = {}

    def get(self, namespace: str, pod: str, container: str) -> ContainerLog:
        key = (namespace, pod, container)
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = ContainerLog()
        return log

    def drop_pod(self, namespace: str, pod: str) -> None:
        for key in [k for k in self._logs if k[:2] == (namespace, pod)]:
            self._logs.pop(key).close()
