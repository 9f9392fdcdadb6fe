"""Load: 1,000 concurrent watchers (the triggerer benchmark's shape). Marked slow (~15 s)."""

from __future__ import annotations

import time

import pytest

from tests.kubeapi import bench_watchers
from tests.kubeapi.server import KubeApiServer


@pytest.mark.slow
def test_thousand_concurrent_watchers() -> None:
    result = bench_watchers.run(watchers=1000, speed=5.0)
    assert result.completed == 1000
    assert result.requests == {"create sparkapplications": 1000, "watch sparkapplications": 1000}
    assert result.rss_watching_mb - result.rss_idle_mb < 100  # ~20 MB measured
    assert result.open_watchers_s < 10


def test_starts_fast() -> None:
    started = time.perf_counter()
    with KubeApiServer() as server:
        elapsed = time.perf_counter() - started
        assert server.port > 0
    assert elapsed < 0.5
