"""Read the small JSON manifest a job writes next to its output (files, bytes, rows), best effort."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)
FIGURES = ("files", "bytes", "rows")


def read_manifest(output: str, file_name: str) -> dict[str, Any] | None:
    """`<output>/<file_name>` parsed, or None (missing, unreadable, or no filesystem for the scheme:
    S3 needs `apache-airflow-providers-amazon[s3fs]`). A report must never fail a finished run."""
    from airflow.sdk import ObjectStoragePath

    uri = output.replace("s3a://", "s3://").replace("s3n://", "s3://")
    try:
        path = ObjectStoragePath(uri if "://" in uri else f"file://{uri}") / file_name
        data = json.loads(path.read_text())
    except Exception as exc:
        log.warning("No manifest %s under %s: %s", file_name, output, exc)
        return None
    return data if isinstance(data, dict) else None


def output_figures(manifest: dict[str, Any]) -> dict[str, int]:
    """`files`, `bytes`, `rows` written, from `manifest["output"]` or the top level."""
    output = manifest.get("output")
    source: dict[str, Any] = output if isinstance(output, dict) else manifest
    return {key: int(source[key]) for key in FIGURES if isinstance(source.get(key), int | float)}


def read_manifests(outputs: Iterable[str], file_name: str) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    """Each output's manifest (None where unreadable), and the figures of those that were read."""
    manifests = {output: read_manifest(output, file_name) for output in outputs}
    return manifests, {output: output_figures(m) for output, m in manifests.items() if m}
