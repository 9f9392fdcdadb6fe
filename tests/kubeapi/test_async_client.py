"""``kubernetes_asyncio`` and Airflow's ``AsyncKubernetesHook`` against the server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client, config, watch  # type: ignore[import-untyped,unused-ignore]
from kubernetes_asyncio.client.exceptions import ApiException  # type: ignore[import-untyped,unused-ignore]

from tests.kubeapi.manifests import GROUP, PLURAL, VERSION, spark_app
from tests.kubeapi.scenarios import DriverError, Hold, Succeed
from tests.kubeapi.server import KubeApiServer

MERGE = "application/merge-patch+json"


async def _client(server: KubeApiServer) -> Any:
    return await config.new_client_from_config(config_file=str(server.kubeconfig_path))


@pytest.mark.asyncio
async def test_crud_status_and_json_patch(kube_api: KubeApiServer) -> None:
    kube_api.script("a", Hold())
    async with await _client(kube_api) as api:
        co = client.CustomObjectsApi(api)
        created = await co.create_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, spark_app("a", labels={"x": "1"})
        )
        assert created["metadata"]["uid"]
        listed = await co.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, label_selector="x=1")
        assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]

        # kubernetes_asyncio sends a list body as a JSON patch.
        patched = await co.patch_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, "a", [{"op": "replace", "path": "/spec/image", "value": "spark:4.0.0"}]
        )
        assert patched["spec"]["image"] == "spark:4.0.0"
        # A dict is sent as a JSON patch too unless the content type is forced (a real server says 400).
        with pytest.raises(ApiException) as wrong:
            await co.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a", {"spec": {"image": "x"}})
        assert wrong.value.status == 400
        merged = await co.patch_namespaced_custom_object(  # type: ignore[call-arg]
            GROUP, VERSION, "default", PLURAL, "a", {"metadata": {"labels": {"y": "2"}}}, _content_type=MERGE
        )
        assert merged["metadata"]["labels"] == {"x": "1", "y": "2"}

        kube_api.operator.paused = True
        status = await co.patch_namespaced_custom_object_status(  # type: ignore[call-arg]
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "a",
            {"status": {"applicationState": {"state": "COMPLETED"}, "driverInfo": {}}},
            _content_type=MERGE,
        )
        assert status["status"]["applicationState"]["state"] == "COMPLETED"

        await co.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a")
        with pytest.raises(ApiException) as missing:
            await co.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a")
        assert missing.value.status == 404


@pytest.mark.asyncio
async def test_watch_to_completion_and_logs(kube_api: KubeApiServer) -> None:
    kube_api.script("w", Succeed(run_for=2))
    async with await _client(kube_api) as api:
        co = client.CustomObjectsApi(api)
        await co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("w"))
        states: list[str | None] = []
        async with watch.Watch() as w:
            async for event in w.stream(
                co.list_namespaced_custom_object,
                GROUP,
                VERSION,
                "default",
                PLURAL,
                field_selector="metadata.name=w",
                timeout_seconds=10,
            ):
                state = (event["object"].get("status") or {}).get("applicationState", {}).get("state")
                if not states or states[-1] != state:
                    states.append(state)
                if state == "COMPLETED":
                    break
        assert states[-1] == "COMPLETED"
        assert "RUNNING" in states

        core = client.CoreV1Api(api)
        text = await core.read_namespaced_pod_log("w-driver", "default", tail_lines=1)
        assert text == "INFO ShutdownHookManager: Shutdown hook called\n"
        pods = await core.list_namespaced_pod(
            "default", label_selector="spark-role=driver,sparkoperator.k8s.io/app-name=w"
        )
        assert [p.metadata.name for p in pods.items] == ["w-driver"]


@pytest.mark.asyncio
async def test_async_kubernetes_hook(airflow_home: Path, kube_api: KubeApiServer, kube_conn: str) -> None:
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook

    kube_api.script("h", DriverError(run_for=1, exit_code=3))
    kube_api.create("sparkapplications", spark_app("h"))
    await asyncio.to_thread(kube_api.wait_for_state, "h", "FAILED")
    hook = AsyncKubernetesHook(conn_id=kube_conn)
    pod = await hook.get_pod("h-driver", "default")
    assert pod.status.phase == "Failed"
    assert pod.status.container_statuses[0].state.terminated.exit_code == 3
    lines = await hook.read_logs("h-driver", "default", container_name="spark-kubernetes-driver")
    assert any("Traceback" in line for line in lines)
    events = await hook.get_pod_events("h-driver", "default")
    assert {"Scheduled", "Started"} <= {e.reason for e in events.items}
