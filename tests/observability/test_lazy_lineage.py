"""The OpenLineage client is loaded only when lineage is produced: importing it loads its HTTP transports
(requests, httpx), which Airflow's DAG processor would otherwise pay on every parse of a DAG using the
operator (it imports the package again in each forked parse) and a worker on every submission."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES, REPO


def _run(code: str, tmp_path: Path, **env: str) -> list[Any]:
    """`code` in a fresh interpreter (Airflow home in `tmp_path`); its last line of output, as JSON."""
    environment = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__EKS_DATA__PROFILES_DIR": str(EXAMPLES / "profiles"),
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, env=environment
    )
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def test_parsing_the_compaction_dag_does_not_load_the_client(tmp_path: Path) -> None:
    code = f"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag({str(EXAMPLES / "hourly_compaction.py")!r})
assert not bag.import_errors, bag.import_errors
assert "hourly_compaction" in bag.dags
print(json.dumps([m for m in sys.modules if m.startswith("openlineage.client")]))
"""
    assert _run(code, tmp_path) == []


def test_submission_additions_with_lineage_disabled_do_not_load_the_client(tmp_path: Path) -> None:
    code = """
import json, sys
from airflow_eks_data.utils.openlineage import spark_conf
added = spark_conf({"spark.a": "1"}, {}, True, True)
print(json.dumps([added, *[m for m in sys.modules if m.startswith("openlineage.client")]]))
"""
    assert _run(code, tmp_path, AIRFLOW__OPENLINEAGE__DISABLED="True") == [{}]


def test_facets_are_openlineage_facets_importable_from_the_module() -> None:
    from openlineage.client.facet_v2 import JobFacet, RunFacet

    from airflow_eks_data.utils import openlineage
    from airflow_eks_data.utils.openlineage import SparkOnEksJobFacet, SparkOnEksRunFacet

    run = SparkOnEksRunFacet(backend="spark_operator", attempts=2)
    assert (run.attempts, run.outcome) == (2, None)
    assert isinstance(run, RunFacet)
    assert isinstance(SparkOnEksJobFacet(job="j", tenant="t", profile="p", backend="emr_on_eks"), JobFacet)
    assert (SparkOnEksRunFacet.__module__, SparkOnEksRunFacet.__qualname__) == (
        openlineage.__name__,
        "SparkOnEksRunFacet",
    )
    assert getattr(openlineage, SparkOnEksJobFacet.__qualname__) is SparkOnEksJobFacet
