"""data-on-eks' NVMe Graviton blueprint, reproduced from a 7-line job and a profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from airflow_eks_data.pipeline import prepare
from tests.conftest import FIXTURES

# Names the blueprint hard-codes per application; we derive them from the application name instead.
DERIVED_NAMES = {"spark.app.name", "spark.kubernetes.driver.pod.name"}


def _required_node_labels(role_spec: dict[str, Any]) -> dict[str, str]:
    terms = role_spec["template"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    expressions = terms["nodeSelectorTerms"][0]["matchExpressions"]
    return {e["key"]: e["values"][0] for e in expressions if e["operator"] == "In"}


def test_reproduces_nvme_graviton_blueprint(reference_dir: Path) -> None:
    blueprint = next(
        doc
        for doc in yaml.safe_load_all(
            (reference_dir / "data-on-eks/spark-operator/nvme-storage-graviton.yaml").read_text()
        )
        if doc
    )
    ours = prepare(
        FIXTURES / "graviton_job.yaml", FIXTURES / "profiles/graviton-nvme.yaml", target="spark_operator"
    ).document
    want, got = blueprint["spec"], ours["spec"]

    assert ours["metadata"]["namespace"] == blueprint["metadata"]["namespace"]
    for key in ("type", "sparkVersion", "image", "mainApplicationFile", "arguments", "mode"):
        assert got[key] == want[key], key
    for key, value in want["sparkConf"].items():
        if key not in DERIVED_NAMES:
            assert got["sparkConf"].get(key) == value, key
    for role in ("driver", "executor"):
        for key in ("cores", "memory", "memoryOverhead", "serviceAccount", "instances"):
            assert got[role].get(key) == want[role].get(key), (role, key)
        assert _required_node_labels(got[role]) == want[role]["nodeSelector"]
    assert got["executor"]["labels"]["app"] == blueprint["metadata"]["labels"]["app"]
