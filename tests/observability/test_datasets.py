"""Dataset names must equal the OpenLineage Spark integration's, or lineage from both sides never joins."""

from __future__ import annotations

import pytest

from airflow_eks_data.observability.datasets import DatasetName, dataset_name


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        # s3a/s3n are S3 to the Spark integration; partition segments are trimmed off the name.
        (
            "s3a://lake/compacted/events/hour=2026-11-23T10",
            DatasetName("s3://lake", "compacted/events", "hour=2026-11-23T10"),
        ),
        ("s3n://lake/raw/events/", DatasetName("s3://lake", "raw/events")),
        ("s3://lake/t/dt=2026-11-23/hr=10/", DatasetName("s3://lake", "t", "dt=2026-11-23/hr=10")),
        ("s3://lake/t/2026-11-23", DatasetName("s3://lake", "t", "2026-11-23")),
        (
            "/tmp/lake/compacted/t/hour=2026-11-23T10",
            DatasetName("file", "/tmp/lake/compacted/t", "hour=2026-11-23T10"),
        ),
        ("file:///tmp/lake/raw/t", DatasetName("file", "/tmp/lake/raw/t")),
        ("hdfs://nn:8020/warehouse/t", DatasetName("hdfs://nn:8020", "/warehouse/t")),
    ],
)
def test_names_match_the_spark_integration(location: str, expected: DatasetName) -> None:
    assert dataset_name(location) == expected


def test_asset_uri_is_the_table() -> None:
    assert dataset_name("s3a://lake/compacted/events/hour=2026-11-23T10").uri == "s3://lake/compacted/events"
    assert dataset_name("/tmp/lake/compacted/t/hour=1").uri == "file:///tmp/lake/compacted/t"


def test_a_single_segment_is_never_trimmed_away() -> None:
    assert dataset_name("s3://lake/hour=10") == DatasetName("s3://lake", "hour=10")
