"""Jittered exponential back-off, shared by resubmission and submission-time retries."""

from __future__ import annotations

import math
import random


def backoff_delay(retry: int, base_seconds: float, cap_seconds: float, rng: random.Random) -> float:
    """Delay before retry `retry` (1-based): equal jitter in [d/2, d], d = min(cap, base * 2^(retry-1)).

    Half the delay is guaranteed so a storm of simultaneous losses does not resubmit at once into
    the same drained capacity pool; the other half is random so the resubmissions spread out.
    """
    if retry < 1:
        raise ValueError(f"retry is 1-based, got {retry}")
    ceiling = min(cap_seconds, math.ldexp(base_seconds, min(retry - 1, 62)))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
