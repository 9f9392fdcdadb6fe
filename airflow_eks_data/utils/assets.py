"""Airflow Assets from a job's declared outputs: one per table, the hour partition as the event's key.

An output such as `s3://lake/compacted/events/hour=2026-11-23T10` is the asset `s3://lake/compacted/events`
(named as OpenLineage names the dataset) with partition `hour=2026-11-23T10`. Outputs known when the DAG
is parsed become the task's outlets; templated or mapped outputs are reported through the `AssetAlias`
outlets the DAG declares (Airflow 3.3 attaches partition keys to concrete assets only, so events through
an alias carry the partition in their extra).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_eks_data.jobspec.names import is_templated
from airflow_eks_data.observability.datasets import dataset_name

if TYPE_CHECKING:
    from airflow.sdk import Asset, Context


def static_outlets(outputs: Iterable[Any]) -> list[Asset]:
    """Assets for the outputs whose location is known at parse time."""
    from airflow.sdk import Asset

    uris = dict.fromkeys(dataset_name(o).uri for o in outputs if isinstance(o, str) and not is_templated(o))
    return [Asset(uri) for uri in uris]


def record_events(context: Context, outlets: Iterable[Any], outputs: Iterable[str], extra: Mapping[str, Any]) -> int:
    """Put `extra` and the partition on the events of this run's outputs; returns how many were recorded."""
    from airflow.sdk import Asset, AssetAlias

    events = context["outlet_events"]
    count = 0
    for output in outputs:
        name = dataset_name(output)
        details = {**extra, "location": output, **({"partition": name.partition} if name.partition else {})}
        for outlet in outlets:
            if isinstance(outlet, AssetAlias):
                events[outlet].add(Asset(name.uri), extra=details)
            elif isinstance(outlet, Asset) and outlet.uri == name.uri:
                events[outlet].extra = details
                if name.partition:
                    events[outlet].add_partitions(name.partition)
            else:
                continue
            count += 1
    return count


def record_outputs(
    context: Context,
    outlets: Iterable[Any],
    outputs: Iterable[str],
    result: Mapping[str, Any],
    statistics: Mapping[str, Mapping[str, int]],
) -> None:
    """One event per output of a successful run: the run's figures, and the output's own from its manifest."""
    extra = {key: result.get(key) for key in ("name", "outcome", "interruptions", "duration_s")}
    extra["attempts"] = len(result["attempts"])
    for output in outputs:
        record_events(context, outlets, [output], {**extra, **statistics.get(output, {})})
