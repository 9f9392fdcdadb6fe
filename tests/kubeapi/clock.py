"""A simulated clock that runs faster than wall time and can jump ahead.

The operator simulation sleeps on this clock, so a scenario written in realistic seconds
("driver runs for 60 s, TTL 3600 s") plays out in milliseconds, and a test can ``advance`` past a
long wait instead of sleeping through it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta


class SimClock:
    """Simulated seconds = real seconds x ``speed`` + manual advances."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._lock = threading.Lock()
        self._speed = speed
        self._real_base = time.monotonic()
        self._sim_base = 0.0
        self._advanced = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Future[None] | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach the loop whose sleepers ``advance`` and ``speed`` changes must wake."""
        self._loop = loop

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            self._sim_base = self._now_locked()
            self._real_base = time.monotonic()
            self._speed = value
        self._notify()

    def _now_locked(self) -> float:
        return self._sim_base + (time.monotonic() - self._real_base) * self._speed

    def now(self) -> float:
        """Simulated seconds since the clock was made."""
        with self._lock:
            return self._now_locked()

    def wall(self) -> datetime:
        """Timestamps for objects: real UTC time plus manual advances.

        Not scaled by ``speed``: clients compare timestamps with their own clock (kubectl's AGE, a
        provider's startup timeout), and a timestamp in the future would confuse them.
        """
        return datetime.now(UTC) + timedelta(seconds=self._advanced)

    def timestamp(self) -> str:
        return self.wall().strftime("%Y-%m-%dT%H:%M:%SZ")

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward; sleepers whose deadline passed wake at once."""
        with self._lock:
            self._sim_base += seconds
            self._advanced += seconds
        self._notify()

    def _notify(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._fire()
        else:
            loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        wake, self._wake = self._wake, None
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulated time; returns without yielding when ``seconds <= 0``."""
        if seconds <= 0:
            return
        deadline = self.now() + seconds
        await self.sleep_until(deadline)

    async def sleep_until(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while (remaining := deadline - self.now()) > 0:
            if self._wake is None or self._wake.done():
                self._wake = loop.create_future()
            await asyncio.wait({self._wake}, timeout=remaining / self._speed)
