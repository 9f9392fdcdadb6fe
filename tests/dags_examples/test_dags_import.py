"""Every example DAG imports cleanly, without warnings, as Airflow's DAG processor parses it."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES


def test_example_dags_import_without_errors_or_warnings(airflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW__EKS_DATA__PROFILES_DIR", str(EXAMPLES / "profiles"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(str(EXAMPLES))
    assert bag.import_errors == {}
    examples = {"hourly_compaction", "example_spark_operator", "example_emr_on_eks", "example_downstream_of_compaction"}
    assert examples <= set(bag.dag_ids)
    ours = [w for w in caught if str(EXAMPLES) in str(w.filename) or "airflow_eks_data" in str(w.filename)]
    assert ours == [], [str(w.message) for w in ours]
    hourly = bag.dags["hourly_compaction"]
    assert [t.task_id for t in hourly.tasks if t.task_id.startswith("compact_")] == [
        "compact_large",
        "compact_medium",
        "compact_small",
    ]
