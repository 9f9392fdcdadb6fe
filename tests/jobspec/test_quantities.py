from __future__ import annotations

import pytest

from airflow_eks_data.jobspec.quantities import duration_seconds, memory_kib, spark_memory


@pytest.mark.parametrize(
    ("given", "spark"),
    [
        ("4g", "4g"),
        ("4G", "4g"),
        ("4096m", "4g"),
        ("4Gi", "4g"),
        ("512Mi", "512m"),
        ("1536m", "1536m"),
        ("2t", "2t"),
        ("3k", "3k"),
    ],
)
def test_memory_is_normalised_to_spark_spelling(given: str, spark: str) -> None:
    assert spark_memory(given) == spark


@pytest.mark.parametrize("bad", ["4gb", "-1g", "0g", "1.5g", "4096", "4 g", "g", "", "4GB", "4Gib", "01g"])
def test_memory_rejects_what_spark_and_kubernetes_disagree_on(bad: str) -> None:
    with pytest.raises(ValueError, match="positive whole quantity"):
        memory_kib(bad)


def test_memory_compares_across_units() -> None:
    assert memory_kib("64g") == memory_kib("65536m") == memory_kib("64Gi")


@pytest.mark.parametrize(
    ("given", "seconds"), [(90, 90), ("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1h30m", 5400)]
)
def test_durations(given: int | str, seconds: int) -> None:
    assert duration_seconds(given) == seconds


@pytest.mark.parametrize("bad", [0, -5, "soon", "", "1d", "m", True])
def test_bad_durations(bad: int | str) -> None:
    with pytest.raises(ValueError, match="duration"):
        duration_seconds(bad)
