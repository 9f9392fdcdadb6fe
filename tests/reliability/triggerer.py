"""One triggerer: every deferred task's trigger in one event loop, as Airflow's triggerer runs them.

As in Airflow, a trigger is built from what the deferral stored (`serialize()`: classpath and
kwargs), never handed over as an object. `restart()` is a triggerer going away mid-wait: every
running trigger is cancelled (cleanup, not a kill: `on_kill` is not called), and after a pause each
is built again from its serialized form and run from the start.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any


class TriggerFailed(Exception):
    """The trigger raised, or ended without an event: Airflow resumes the task with `__fail__`."""


def build(classpath: str, kwargs: dict[str, Any]) -> Any:
    """What the triggerer does with a stored trigger row."""
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**kwargs)


async def first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise TriggerFailed(f"{type(trigger).__name__} ended without an event")


class Triggerer:
    def __init__(self) -> None:
        self._running: set[asyncio.Task[dict[str, Any]]] = set()
        self._restarting: set[asyncio.Task[dict[str, Any]]] = set()
        self._up = asyncio.Event()
        self._up.set()
        self.restarts = 0
        self.rebuilt = 0
        """Triggers torn down by a restart and built again from their serialized form."""
        self.fired = 0
        self.failed = 0

    @property
    def waiting(self) -> int:
        return len(self._running)

    async def run(self, classpath: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The payload of the trigger's first event, across any number of restarts."""
        while True:
            await self._up.wait()
            trigger = build(classpath, kwargs)
            task = asyncio.create_task(first_event(trigger))
            self._running.add(task)
            try:
                payload = await task
            except asyncio.CancelledError:
                if task not in self._restarting:
                    raise  # the waiting task itself was cancelled (its cancellation reached the trigger)
                self.rebuilt += 1
                classpath, kwargs = trigger.serialize()
                continue
            except Exception as exc:
                self.failed += 1
                raise TriggerFailed(f"{type(exc).__name__}: {exc}") from exc
            finally:
                self._running.discard(task)
                self._restarting.discard(task)
            self.fired += 1
            return payload

    async def restart(self, pause: float) -> int:
        """Tear down every running trigger, wait `pause` seconds, start them again; returns how many."""
        self._up.clear()
        victims = list(self._running)
        self._restarting.update(victims)
        for task in victims:
            task.cancel()
        if victims:
            await asyncio.wait(victims)
        await asyncio.sleep(pause)
        self.restarts += 1
        self._up.set()
        return len(victims)
