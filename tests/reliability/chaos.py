"""Faults that happen at moments rather than per request: triggerer restarts, token expiry, etcd
compaction (410 Gone on the next re-watch) and bursts of 410 on every re-watch.

Each kind has its own seeded schedule, so which faults happen and how often is reproducible; which
waits they hit depends on timing, as it would in production.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tests.kubeapi.server import KubeApiServer
from tests.reliability.triggerer import Triggerer


@dataclass(frozen=True)
class ChaosSettings:
    """Seconds between events of each kind (uniform in the range)."""

    triggerer_restart: tuple[float, float] = (4.0, 9.0)
    restart_pause: tuple[float, float] = (0.1, 0.6)
    token_expiry: tuple[float, float] = (4.0, 9.0)
    token_gap: tuple[float, float] = (0.2, 1.0)
    """How long requests keep being answered 401 before the new token reaches the kubeconfig."""
    compaction: tuple[float, float] = (3.0, 7.0)
    gone_burst: tuple[float, float] = (5.0, 11.0)
    gone_burst_length: float = 0.3


class Chaos:
    def __init__(self, kube: KubeApiServer, triggerer: Triggerer, settings: ChaosSettings, seed: int) -> None:
        self.kube = kube
        self.triggerer = triggerer
        self.settings = settings
        self.seed = seed
        self.counts: Counter[str] = Counter()

    async def run(self) -> None:
        s = self.settings
        await asyncio.gather(
            self._every("triggerer_restart", s.triggerer_restart, self._restart),
            self._every("token_expiry", s.token_expiry, self._expire_token),
            self._every("compaction", s.compaction, self._compact),
            self._every("gone_burst", s.gone_burst, self._gone_burst),
        )

    async def _every(
        self, kind: str, period: tuple[float, float], action: Callable[[random.Random], Awaitable[None]]
    ) -> None:
        rng = random.Random(f"{self.seed}:{kind}")
        while True:
            await asyncio.sleep(rng.uniform(*period))
            await action(rng)
            self.counts[kind] += 1

    async def _restart(self, rng: random.Random) -> None:
        self.counts["triggers_torn_down"] += await self.triggerer.restart(rng.uniform(*self.settings.restart_pause))

    async def _expire_token(self, rng: random.Random) -> None:
        self.kube.tokens.expire()
        await asyncio.sleep(rng.uniform(*self.settings.token_gap))
        await asyncio.to_thread(self.kube.rotate_token)

    async def _compact(self, rng: random.Random) -> None:
        await asyncio.to_thread(self.kube.compact)

    async def _gone_burst(self, rng: random.Random) -> None:
        self.kube.faults.gone_on_rewatch = True
        await asyncio.sleep(self.settings.gone_burst_length)
        self.kube.faults.gone_on_rewatch = False
