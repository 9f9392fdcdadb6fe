"""Switchable faults for reliability tests: error answers, throttling, slowness, watch cuts.

Randomness comes from one seeded RNG so a failing run can be replayed; every rule can also be
limited to a number of hits for fully deterministic tests (``times=1``: fail the next call only).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from tests.kubeapi.errors import ApiError


@dataclass
class FaultRule:
    """Answer matching requests with ``status`` (or only delay them when ``status`` is 0)."""

    status: int
    rate: float = 1.0
    times: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    verbs: frozenset[str] | None = None
    resources: frozenset[str] | None = None

    def applies(self, verb: str, resource: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.verbs is not None and verb not in self.verbs:
            return False
        return (
            self.resources is None or resource in self.resources or resource.split("/", maxsplit=1)[0] in self.resources
        )


@dataclass(frozen=True)
class Decision:
    delay: float
    error: ApiError | None


class Faults:
    """The fault switches of one server; safe to change from the test thread while it serves."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rules: list[FaultRule] = []
        self.watch_cut_after_events: int | None = None
        self.watch_cut_after_seconds: float | None = None
        self.gone_on_rewatch = False

    def seed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def clear(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._rules.clear()
        self.watch_cut_after_events = None
        self.watch_cut_after_seconds = None
        self.gone_on_rewatch = False

    def _add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def error(
        self,
        status: int = 500,
        *,
        rate: float = 1.0,
        times: int | None = None,
        retry_after: int | None = None,
        verbs: set[str] | None = None,
        resources: set[str] | None = None,
    ) -> FaultRule:
        """Answer a share ``rate`` of matching requests with ``status`` (500, 503, ...)."""
        return self._add(
            FaultRule(
                status,
                rate,
                times,
                retry_after,
                verbs=frozenset(verbs) if verbs else None,
                resources=frozenset(resources) if resources else None,
            )
        )

    def throttle(
        self,
        *,
        rate: float = 1.0,
        retry_after: int = 1,
        times: int | None = None,
        verbs: set[str] | None = None,
        resources: set[str] | None = None,
    ) -> FaultRule:
        """429 TooManyRequests with ``Retry-After``, as API priority and fairness answers."""
        return self.error(429, rate=rate, times=times, retry_after=retry_after, verbs=verbs, resources=resources)

    def slow(
        self,
        delay: float,
        *,
        rate: float = 1.0,
        times: int | None = None,
        verbs: set[str] | None = None,
        resources: set[str] | None = None,
    ) -> FaultRule:
        """Delay matching responses by ``delay`` real seconds."""
        return self._add(
            FaultRule(
                0,
                rate,
                times,
                delay=delay,
                verbs=frozenset(verbs) if verbs else None,
                resources=frozenset(resources) if resources else None,
            )
        )

    def cut_watches(self, *, after_events: int | None = None, after_seconds: float | None = None) -> None:
        """End every watch stream early (cleanly, as a load balancer idle timeout does)."""
        self.watch_cut_after_events = after_events
        self.watch_cut_after_seconds = after_seconds

    def decide(self, verb: str, resource: str) -> Decision:
        """Which fault, if any, hits this request (consumes one ``times`` of the rule that fires)."""
        delay = 0.0
        with self._lock:
            for rule in self._rules:
                if not rule.applies(verb, resource) or self._rng.random() >= rule.rate:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                if rule.status == 0:
                    delay += rule.delay
                    continue
                headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
                message = {
                    429: "Too many requests, please try again later.",
                    503: "the server is currently unable to handle the request",
                }.get(rule.status, "Internal error occurred: injected fault")
                return Decision(delay, ApiError(rule.status, message, headers=headers))
        return Decision(delay, None)
