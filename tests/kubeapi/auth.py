"""Bearer tokens that expire, to test clients that must pick up a rotated credential.

EKS tokens live 15 minutes; a client that caches one must rebuild its configuration from the
kubeconfig (or exec plugin) when the server answers 401.
"""

from __future__ import annotations

import secrets
import threading

from tests.kubeapi.clock import SimClock
from tests.kubeapi.errors import ApiError


class Tokens:
    """Valid tokens and their simulated-time expiry; disabled means anonymous access."""

    def __init__(self, clock: SimClock, enabled: bool = False) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, float | None] = {}
        self.enabled = enabled
        self.rejected = 0  # requests answered 401, for tests that assert a client hit expiry
        self.current = self.issue() if enabled else ""

    def issue(self, ttl: float | None = None) -> str:
        """Make a new valid token (valid for ``ttl`` simulated seconds, or until expired)."""
        token = "kubeapi-" + secrets.token_hex(12)
        with self._lock:
            self._expiry[token] = None if ttl is None else self._clock.now() + ttl
        self.current = token
        return token

    def expire(self, token: str | None = None) -> None:
        """Make ``token`` (default: the current one) answer 401 from now on."""
        with self._lock:
            self._expiry[token or self.current] = self._clock.now() - 1

    def check(self, authorization: str | None) -> None:
        if not self.enabled:
            return
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self._lock:
            known = token in self._expiry
            expiry = self._expiry.get(token)
        if not known or (expiry is not None and self._clock.now() >= expiry):
            with self._lock:
                self.rejected += 1
            raise ApiError(401, "Unauthorized")
