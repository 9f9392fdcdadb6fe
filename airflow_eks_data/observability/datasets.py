"""Job inputs and outputs as the OpenLineage Spark integration names them, so both sides join.

A Spark job that writes `s3a://lake/compacted/events/hour=2026-11-23T10` is reported by the Spark
integration as namespace `s3://lake`, name `compacted/events`: `s3a`/`s3n` are S3, and its dataset
reducer trims trailing partition segments (`key=value`, dates). The trimmers used here are the
OpenLineage client's own, so the two sides stay in step when the client changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})


@cache
def _trimmers() -> tuple[Any, ...]:
    """The client's trimmers, loaded on first use: importing `openlineage.client` loads its HTTP
    transports (requests, httpx), a quarter of a second that parsing a DAG with mapped jobs never needs
    (Airflow's DAG processor pays its imports again for every parse)."""
    from openlineage.client.dataset.dataset import BUILTIN_TRIMMERS

    return tuple(cls() for cls in BUILTIN_TRIMMERS)


@dataclass(frozen=True)
class DatasetName:
    namespace: str
    name: str
    partition: str | None = None
    """What the trimmers took off the end (e.g. `hour=2026-11-23T10`), None if nothing."""

    @property
    def uri(self) -> str:
        """The table's URI (without the partition), used as the Airflow Asset's URI."""
        if self.namespace == "file":
            return f"file://{self.name}"
        return f"{self.namespace}/{self.name.lstrip('/')}"


def dataset_name(location: str) -> DatasetName:
    """OpenLineage namespace and (trimmed) name of a storage location, plus the trimmed partition."""
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme in ("", "file"):
        namespace, path = "file", parts.path or location
    elif scheme in S3_SCHEMES:
        namespace, path = f"s3://{parts.netloc}", parts.path.lstrip("/")
    else:
        namespace, path = f"{scheme}://{parts.netloc}", parts.path
    trimmed = _trim(path.rstrip("/") or path)
    partition = path.rstrip("/")[len(trimmed) :].strip("/") or None
    return DatasetName(namespace, trimmed, partition)


def _trim(name: str) -> str:
    """Apply the trimmers until none changes the name (they take one segment at a time)."""
    for _ in range(32):  # a bound, in case a future trimmer does not converge
        trimmed = name
        for trimmer in _trimmers():
            candidate = trimmer.trim(trimmed)
            if len(candidate) <= len(trimmed):
                trimmed = candidate.rstrip("/") or candidate
        if trimmed == name:
            return name
        name = trimmed
    return name
