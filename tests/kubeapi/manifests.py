"""Minimal valid manifests for tests (valid against the pinned v2.5.2 CRD)."""

from __future__ import annotations

from typing import Any

from tests.kubeapi.scenarios import SCENARIO_KEY

GROUP = "sparkoperator.k8s.io"
VERSION = "v1beta2"
PLURAL = "sparkapplications"


def spark_app(
    name: str,
    *,
    namespace: str = "default",
    scenario: str | None = None,
    labels: dict[str, str] | None = None,
    restart_policy: dict[str, Any] | None = None,
    ttl: int | None = None,
    executors: int = 1,
    driver_labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A SparkApplication body; ``scenario`` sets the ``kubeapi.test/scenario`` annotation."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
    if scenario:
        metadata["annotations"] = {SCENARIO_KEY: scenario}
    spec: dict[str, Any] = {
        "type": "Python",
        "mode": "cluster",
        "image": "spark:3.5.5",
        "mainApplicationFile": "local:///opt/spark/examples/src/main/python/pi.py",
        "sparkVersion": "3.5.5",
        "restartPolicy": restart_policy or {"type": "Never"},
        "driver": {"cores": 1, "memory": "512m", "serviceAccount": "spark", "labels": dict(driver_labels or {})},
        "executor": {"cores": 1, "instances": executors, "memory": "512m"},
    }
    if ttl is not None:
        spec["timeToLiveSeconds"] = ttl
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "SparkApplication", "metadata": metadata, "spec": spec}
