"""kubectl (when installed) against the server: create, list -l, watch, status patch, logs, delete."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.kubeapi.manifests import spark_app
from tests.kubeapi.scenarios import Hold, Succeed
from tests.kubeapi.server import KubeApiServer

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (Debian: kubernetes-client)")

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _kubectl(server: KubeApiServer, cache: Path) -> Kubectl:
    def run(*args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        env = {**os.environ, "KUBECONFIG": str(server.kubeconfig_path), "HOME": str(cache)}
        result = subprocess.run(
            [KUBECTL, "--cache-dir", str(cache / "kube-cache"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    return run


@pytest.fixture
def kubectl(kube_api: KubeApiServer, tmp_path: Path) -> Kubectl:
    return _kubectl(kube_api, tmp_path)


def test_create_list_patch_logs_delete(kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path) -> None:
    kube_api.script("pi", Hold(pending_for=0))
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump(spark_app("pi", labels={"dag_id": "compaction"})))

    # No --validate=false: kubectl finds fieldValidation support in /openapi/v3 and lets the
    # server validate.
    assert "sparkapplication.sparkoperator.k8s.io/pi created" in kubectl("create", "-f", str(manifest)).stdout
    assert kubectl("get", "sparkapp", "-l", "dag_id=compaction", "-o", "name").stdout.split() == [
        "sparkapplication.sparkoperator.k8s.io/pi"
    ]
    assert "No resources found" in kubectl("get", "sparkapplications", "-l", "dag_id=other").stderr
    kube_api.wait_for_state("pi", "RUNNING")
    pods = json.loads(kubectl("get", "pods", "-l", "spark-role=driver", "-o", "json").stdout)
    assert [p["metadata"]["name"] for p in pods["items"]] == ["pi-driver"]
    assert "Running Spark version" in kubectl("logs", "pi-driver", "--tail=10").stdout

    kube_api.operator.paused = True
    kubectl(
        "patch",
        "sparkapp",
        "pi",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"applicationState":{"state":"COMPLETED"}}}',
    )
    state = kubectl("get", "sparkapp", "pi", "-o", "jsonpath={.status.applicationState.state}").stdout
    assert state == "COMPLETED"

    events = kubectl("get", "events", "--field-selector", "involvedObject.name=pi", "-o", "json").stdout
    assert "SparkApplicationSubmitted" in {e["reason"] for e in json.loads(events)["items"]}

    assert 'sparkapplication.sparkoperator.k8s.io "pi" deleted' in kubectl("delete", "sparkapp", "pi").stdout
    assert kubectl("get", "pods", "-o", "name").stdout == ""


def test_watch_and_follow(kube_api: KubeApiServer, kubectl: Kubectl) -> None:
    kube_api.clock.speed = 10
    kube_api.script("w", Succeed(pending_for=0, run_for=3))
    kube_api.create("sparkapplications", spark_app("w"))
    kube_api.wait_for_state("w", "RUNNING")
    follow = kubectl("logs", "-f", "w-driver").stdout
    assert follow.rstrip().endswith("Shutdown hook called")
    watched = kubectl("get", "sparkapp", "-w", "--output-watch-events", "--request-timeout=1s", check=False).stdout
    assert watched.split()[:3] == ["EVENT", "NAME", "AGE"]
    assert "ADDED" in watched


def test_field_validation_and_server_side_errors(
    kube_api: KubeApiServer, kubectl: Kubectl, tmp_path: Path, spark_crd_path: Path
) -> None:
    bad = spark_app("bad")
    bad["spec"]["type"] = "Fortran"
    bad["spec"]["labels"] = {"unknown": "field"}
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(yaml.safe_dump(bad))
    result = kubectl("create", "-f", str(manifest), check=False)
    assert result.returncode == 1
    assert 'unknown field "spec.labels"' in result.stderr
    result = kubectl("create", "--validate=false", "-f", str(manifest), check=False)
    assert result.returncode == 1
    assert 'spec.type: Unsupported value: "Fortran"' in result.stderr


def test_token_over_tls_expires_and_rotates(kube_api_factory: Callable[..., KubeApiServer], tmp_path: Path) -> None:
    server = kube_api_factory(tls=True, token_auth=True)
    kubectl = _kubectl(server, tmp_path)
    assert server.url.startswith("https://")
    assert kubectl("get", "namespaces", "-o", "name").stdout.split() == ["namespace/default", "namespace/kube-system"]
    server.tokens.expire()
    denied = kubectl("get", "namespaces", check=False)
    assert denied.returncode == 1
    assert "Unauthorized" in denied.stderr or "provide credentials" in denied.stderr
    server.rotate_token()  # writes the new token into the kubeconfig
    assert kubectl("get", "namespaces", "-o", "name").returncode == 0
    assert server.counters.total(verb="list", resource="namespaces") >= 3
