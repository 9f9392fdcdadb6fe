"""Fault injection: throttling, server errors, slowness, watch cuts, 410 on re-watch, expiring tokens."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch  # type: ignore[import-untyped,unused-ignore]
from kubernetes.client.rest import ApiException  # type: ignore[import-untyped,unused-ignore]

from tests.kubeapi.manifests import GROUP, PLURAL, VERSION, spark_app
from tests.kubeapi.scenarios import Hold
from tests.kubeapi.server import KubeApiServer


def _api(server: KubeApiServer, retries: bool = True) -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(server.kubeconfig_path), client_configuration=configuration)
    if not retries:
        configuration.retries = False
    return client.ApiClient(configuration)


@pytest.fixture
def api(kube_api: KubeApiServer) -> Iterator[client.ApiClient]:
    api_client = _api(kube_api, retries=False)
    yield api_client
    api_client.close()


def _get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_throttling_with_retry_after(kube_api: KubeApiServer, api: client.ApiClient) -> None:
    kube_api.faults.throttle(times=1, retry_after=7, verbs={"create"})
    co = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as exc:
        co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("t"))
    assert exc.value.status == 429
    assert exc.value.headers["Retry-After"] == "7"
    assert json.loads(exc.value.body)["reason"] == "TooManyRequests"
    # The rule fired once; the next call goes through and both were counted.
    co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("t"))
    assert kube_api.counters[("create", "sparkapplications")] == 2


def test_sync_client_retries_throttled_calls_itself(kube_api: KubeApiServer) -> None:
    # urllib3 (under the sync client) honours Retry-After on 429/503 by default: the fault shows
    # up as extra requests, not as an error.
    kube_api.faults.throttle(times=2, retry_after=0, resources={"pods"})
    with _api(kube_api) as api:
        assert client.CoreV1Api(api).list_namespaced_pod("default").items == []
    assert kube_api.counters[("list", "pods")] == 3


def test_error_rate_is_seeded(kube_api_factory: Callable[..., KubeApiServer]) -> None:
    def pattern() -> list[int]:
        server = kube_api_factory(seed=42)
        server.faults.error(500, rate=0.3)
        server.faults.error(503, rate=0.1)
        return [_get_status(f"{server.url}/api/v1/namespaces/default/pods") for _ in range(60)]

    first, second = pattern(), pattern()
    assert first == second
    assert set(first) == {200, 500, 503}
    assert 8 <= first.count(500) <= 30


def test_slow_responses(kube_api: KubeApiServer) -> None:
    kube_api.faults.slow(0.3, times=1, verbs={"get"}, resources={"namespaces"})
    started = time.monotonic()
    assert _get_status(f"{kube_api.url}/api/v1/namespaces/default") == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert _get_status(f"{kube_api.url}/api/v1/namespaces/default") == 200
    assert time.monotonic() - started < 0.3


def test_watch_cut_after_events(kube_api: KubeApiServer, api: client.ApiClient) -> None:
    kube_api.set_default_scenario(Hold())
    for name in ("a", "b", "c"):
        kube_api.create("sparkapplications", spark_app(name))
    kube_api.faults.cut_watches(after_events=2)
    co = client.CustomObjectsApi(api)
    started = time.monotonic()
    events = list(
        watch.Watch().stream(co.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL, timeout_seconds=30)
    )
    assert len(events) == 2
    assert time.monotonic() - started < 5


def test_watch_cut_after_seconds(kube_api: KubeApiServer, api: client.ApiClient) -> None:
    kube_api.faults.cut_watches(after_seconds=0.2)
    started = time.monotonic()
    events = list(watch.Watch().stream(client.CoreV1Api(api).list_namespaced_pod, "default", timeout_seconds=30))
    assert events == []
    assert time.monotonic() - started < 3


def test_gone_on_rewatch(kube_api: KubeApiServer, api: client.ApiClient) -> None:
    kube_api.faults.gone_on_rewatch = True
    core = client.CoreV1Api(api)
    rv = core.list_namespaced_pod("default").metadata.resource_version
    with pytest.raises(ApiException) as gone:
        list(watch.Watch().stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=5))
    assert gone.value.status == 410
    # A fresh watch (no resourceVersion) still works: the client is expected to re-list.
    kube_api.faults.cut_watches(after_seconds=0.05)
    assert list(watch.Watch().stream(core.list_namespaced_pod, "default", timeout_seconds=1)) == []


def test_token_expiry_and_rotation(kube_api_factory: Callable[..., KubeApiServer]) -> None:
    server = kube_api_factory(token_auth=True)
    with _api(server) as api:
        assert client.CoreV1Api(api).list_namespace().items
    server.tokens.expire()
    with _api(server, retries=False) as api, pytest.raises(ApiException) as denied:
        client.CoreV1Api(api).list_namespace()
    assert denied.value.status == 401
    assert json.loads(denied.value.body)["reason"] == "Unauthorized"
    server.rotate_token(ttl=60)
    with _api(server) as api:
        assert client.CoreV1Api(api).list_namespace().items
        server.clock.advance(61)  # the new token's simulated lifetime ends
        with pytest.raises(ApiException) as expired:
            client.CoreV1Api(api).list_namespace()
    assert expired.value.status == 401
    assert server.tokens.rejected == 2


def test_hook_picks_up_rotated_token(
    airflow_home: Path,
    kube_api_factory: Callable[..., KubeApiServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

    server = kube_api_factory(token_auth=True)
    monkeypatch.setenv("AIRFLOW_CONN_KUBE_TOKEN", server.airflow_connection_json())
    assert KubernetesHook(conn_id="kube_token").core_v1_client.list_namespace().items
    server.rotate_token()
    # A hook rebuilt from the connection re-reads the kubeconfig file: the new token works.
    assert KubernetesHook(conn_id="kube_token").core_v1_client.list_namespace().items


def test_counters_by_verb_and_resource(kube_api: KubeApiServer, api: client.ApiClient) -> None:
    kube_api.script("c", Hold(pending_for=0))
    co = client.CustomObjectsApi(api)
    co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("c"))
    co.get_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, "c")
    co.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    kube_api.wait_for_state("c", "RUNNING")
    client.CoreV1Api(api).read_namespaced_pod_log("c-driver", "default", _preload_content=False)
    snapshot = kube_api.counters.snapshot()
    assert snapshot[("create", "sparkapplications")] == 1
    assert snapshot[("get", "sparkapplications/status")] == 1
    assert snapshot[("list", "sparkapplications")] == 1
    assert snapshot[("get", "pods/log")] == 1
    assert kube_api.counters.total(verb="create") == 1  # in-process writes by the operator are not requests
    kube_api.counters.reset()
    assert kube_api.counters.total() == 0
