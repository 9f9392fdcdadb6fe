"""The official synchronous ``kubernetes`` client against the server: REST semantics it relies on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch  # type: ignore[import-untyped,unused-ignore]
from kubernetes.client.rest import ApiException  # type: ignore[import-untyped,unused-ignore]

from tests.kubeapi.manifests import GROUP, PLURAL, VERSION, spark_app
from tests.kubeapi.scenarios import Hold, Succeed
from tests.kubeapi.server import KubeApiServer


@pytest.fixture
def api(kube_api: KubeApiServer) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(kube_api.kubeconfig_path))
    yield api_client
    api_client.close()


def _status(exc: ApiException) -> dict[str, object]:
    body: dict[str, object] = json.loads(exc.body)
    return body


def test_discovery(api: client.ApiClient) -> None:
    assert client.VersionApi(api).get_code().git_version.startswith("v1.32")
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert "sparkoperator.k8s.io" in groups
    core = {r.name for r in client.CoreV1Api(api).get_api_resources().resources}
    assert {"pods", "pods/log", "nodes", "events", "namespaces"} <= core
    custom = client.CustomObjectsApi(api).get_api_resources(GROUP, VERSION)
    assert [r.name for r in custom.resources][:2] == ["sparkapplications", "sparkapplications/status"]


def test_create_get_conflicts_and_not_found(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    kube_api.script("a", Hold())
    co = client.CustomObjectsApi(api)
    created = co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("a"))
    # The client maps only 201 to a body on create: a 200 would make this None.
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
    assert created["metadata"]["generation"] == 1

    with pytest.raises(ApiException) as dup:
        co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("a"))
    assert dup.value.status == 409
    assert _status(dup.value)["reason"] == "AlreadyExists"
    assert _status(dup.value)["message"] == 'sparkapplications.sparkoperator.k8s.io "a" already exists'

    with pytest.raises(ApiException) as missing:
        co.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "nope")
    assert missing.value.status == 404
    assert _status(missing.value)["kind"] == "Status"
    assert _status(missing.value)["reason"] == "NotFound"


def test_replace_patch_and_status_subresource(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    kube_api.script("a", Hold())
    co = client.CustomObjectsApi(api)
    co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("a"))
    kube_api.wait_for_state("a", "RUNNING")
    app = co.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a")

    # Replace with a stale resourceVersion: 409 Conflict, as optimistic concurrency demands.
    stale = dict(app, metadata=dict(app["metadata"], resourceVersion="2"))
    with pytest.raises(ApiException) as conflict:
        co.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a", stale)
    assert conflict.value.status == 409
    assert _status(conflict.value)["reason"] == "Conflict"

    # A spec change bumps generation; status written through the main resource is ignored.
    app["spec"]["arguments"] = ["--day", "2026-01-01"]
    app["status"] = {"applicationState": {"state": "COMPLETED"}, "driverInfo": {}}
    replaced = co.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "a", app)
    assert replaced["metadata"]["generation"] == 2
    assert replaced["status"]["applicationState"]["state"] == "RUNNING"

    patched = co.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "a", {"metadata": {"labels": {"team": "data"}}}
    )
    assert patched["metadata"]["labels"]["team"] == "data"
    assert patched["metadata"]["generation"] == 2

    # The status subresource writes only status.
    kube_api.operator.paused = True
    status = co.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "a",
        {"status": {"applicationState": {"state": "FAILED", "errorMessage": "x"}}, "spec": {"image": "nope"}},
    )
    assert status["status"]["applicationState"] == {"state": "FAILED", "errorMessage": "x"}
    assert status["spec"]["image"] == "spark:3.5.5"
    got = co.get_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, "a")
    assert got["status"]["applicationState"]["state"] == "FAILED"


def test_json_patch_on_core_objects(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    core = client.CoreV1Api(api)
    pod = {"metadata": {"name": "p", "labels": {"a": "1"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    core.create_namespaced_pod("default", pod)
    patched = core.patch_namespaced_pod("p", "default", [{"op": "add", "path": "/metadata/labels/b", "value": "2"}])
    assert patched.metadata.labels == {"a": "1", "b": "2"}
    # Strategic merge patch (the client's default for dicts on core types) behaves as a merge here.
    patched = core.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"a": None}}})
    assert patched.metadata.labels == {"b": "2"}
    with pytest.raises(ApiException) as bad:
        core.patch_namespaced_pod("p", "default", [{"op": "test", "path": "/metadata/labels/b", "value": "3"}])
    assert bad.value.status == 422


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("team=data", ["a", "b"]),
        ("team==data,tier=gold", ["a"]),
        ("team!=data", ["c", "d"]),
        ("tier in (gold, silver)", ["a", "c"]),
        ("tier notin (gold)", ["b", "c", "d"]),
        ("tier", ["a", "c"]),
        ("!tier", ["b", "d"]),
        ("team=data,tier notin (silver)", ["a", "b"]),
    ],
)
def test_label_selectors(api: client.ApiClient, kube_api: KubeApiServer, selector: str, expected: list[str]) -> None:
    kube_api.set_default_scenario(Hold())
    labels = {
        "a": {"team": "data", "tier": "gold"},
        "b": {"team": "data"},
        "c": {"team": "ml", "tier": "silver"},
        "d": {},
    }
    co = client.CustomObjectsApi(api)
    for name, app_labels in labels.items():
        co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app(name, labels=app_labels))
    found = co.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, label_selector=selector)
    assert found["kind"] == "SparkApplicationList"
    assert int(found["metadata"]["resourceVersion"]) > 0
    assert [item["metadata"]["name"] for item in found["items"]] == expected


def test_field_selectors_and_events(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    kube_api.script("*", Succeed(run_for=1))
    co = client.CustomObjectsApi(api)
    for name in ("x", "y"):
        co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app(name))
    by_name = co.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, field_selector="metadata.name=y")
    assert [i["metadata"]["name"] for i in by_name["items"]] == ["y"]
    kube_api.wait_for_state("x", "COMPLETED")

    core = client.CoreV1Api(api)
    app_events = core.list_namespaced_event(
        "default", field_selector="involvedObject.kind=SparkApplication,involvedObject.name=x"
    ).items
    reasons = {e.reason for e in app_events}
    assert {
        "SparkApplicationAdded",
        "SparkApplicationSubmitted",
        "SparkDriverRunning",
        "SparkApplicationCompleted",
    } <= reasons
    assert all(e.involved_object.name == "x" for e in app_events)
    pod_events = core.list_namespaced_event("default", field_selector="involvedObject.name=x-driver").items
    assert {"Scheduled", "Started"} <= {e.reason for e in pod_events}
    drivers = core.list_pod_for_all_namespaces(
        label_selector="spark-role=driver", field_selector="status.phase=Succeeded"
    )
    assert sorted(p.metadata.name for p in drivers.items) == ["x-driver", "y-driver"]


def test_watch_resume_bookmarks_and_gone(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    kube_api.set_default_scenario(Hold())
    kube_api.bookmark_interval = 0.05
    co = client.CustomObjectsApi(api)
    co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("w1"))
    listed = co.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    rv = listed["metadata"]["resourceVersion"]
    co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("w2"))

    # Resuming from the list's resourceVersion replays only what came after it.
    seen = []
    w = watch.Watch()
    for event in w.stream(
        co.list_namespaced_custom_object,
        GROUP,
        VERSION,
        "default",
        PLURAL,
        resource_version=rv,
        allow_watch_bookmarks=True,
        timeout_seconds=1,
    ):
        seen.append((event["type"], event["object"]["metadata"].get("name")))
        if event["type"] == "BOOKMARK":
            w.stop()
    assert ("ADDED", "w2") in seen
    assert ("ADDED", "w1") not in seen
    assert seen[-1] == ("BOOKMARK", None)

    # After compaction, the old resourceVersion is gone: an ERROR event with 410 Expired.
    kube_api.compact()
    with pytest.raises(ApiException) as gone:
        for _ in watch.Watch().stream(
            co.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL, resource_version=rv, timeout_seconds=1
        ):
            pass
    assert gone.value.status == 410


def test_lists_are_per_namespace_and_expired_watches_end_with_410(
    api: client.ApiClient, kube_api: KubeApiServer
) -> None:
    kube_api.set_default_scenario(Hold())
    co = client.CustomObjectsApi(api)
    for namespace in ("default", "other"):
        co.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, spark_app(f"in-{namespace}", namespace=namespace)
        )
    listed = co.list_namespaced_custom_object(GROUP, VERSION, "other", PLURAL)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["in-other"]
    everywhere = co.list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"]
    assert [i["metadata"]["name"] for i in everywhere] == ["in-default", "in-other"]

    # An open watch, current: expire_watches ends it with 410 (what a client sees after compaction).
    errors: list[ApiException] = []

    def consume() -> None:
        stream = watch.Watch().stream(
            co.list_namespaced_custom_object,
            GROUP,
            VERSION,
            "other",
            PLURAL,
            resource_version=listed["metadata"]["resourceVersion"],
            timeout_seconds=30,
        )
        try:
            for _ in stream:
                pass
        except ApiException as exc:
            errors.append(exc)

    watching = threading.Thread(target=consume)
    watching.start()
    kube_api.wait_for(lambda: kube_api.call(lambda: len(kube_api.store.watchers[PLURAL])) == 1)
    assert kube_api.expire_watches() == 1
    watching.join(10)
    assert [e.status for e in errors] == [410]


def test_watch_timeout_ends_stream(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    core = client.CoreV1Api(api)
    events = list(watch.Watch().stream(core.list_namespaced_pod, "default", timeout_seconds=1))
    assert events == []


@pytest.mark.parametrize(("propagation", "pods_left"), [("Background", 0), ("Foreground", 0), ("Orphan", 3)])
def test_delete_propagation(api: client.ApiClient, kube_api: KubeApiServer, propagation: str, pods_left: int) -> None:
    kube_api.script("d", Hold(pending_for=0, executors=2))
    co = client.CustomObjectsApi(api)
    core = client.CoreV1Api(api)
    co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("d"))
    kube_api.wait_for(lambda: len(kube_api.list("pods", "default", "sparkoperator.k8s.io/app-name=d")) == 3)
    co.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "d", propagation_policy=propagation)
    pods = core.list_namespaced_pod("default", label_selector="sparkoperator.k8s.io/app-name=d").items
    assert len(pods) == pods_left
    if propagation == "Orphan":
        driver = next(p for p in pods if p.metadata.labels["spark-role"] == "driver")
        assert not driver.metadata.owner_references
    with pytest.raises(ApiException) as gone:
        co.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "d")
    assert gone.value.status == 404


def test_pod_logs_tail_and_follow(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    kube_api.clock.speed = 5
    kube_api.script("logs", Succeed(pending_for=0, run_for=2, log_lines=("Pi is roughly 3.14",)))
    co = client.CustomObjectsApi(api)
    core = client.CoreV1Api(api)
    co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("logs"))
    kube_api.wait_for_state("logs", "RUNNING")

    # follow=True streams until the container terminates. _preload_content=False avoids the
    # v36 client bug that returns "b'...'" from read_namespaced_pod_log.
    stream = core.read_namespaced_pod_log("logs-driver", "default", follow=True, _preload_content=False)
    lines = [line.decode() for line in stream.stream()]
    text = "".join(lines)
    assert "Running Spark version 3.5.5" in text
    assert "Pi is roughly 3.14" in text
    assert text.rstrip().endswith("Shutdown hook called")

    tail = core.read_namespaced_pod_log("logs-driver", "default", tail_lines=2, _preload_content=False).data.decode()
    assert tail.splitlines() == [
        "INFO SparkContext: Successfully stopped SparkContext",
        "INFO ShutdownHookManager: Shutdown hook called",
    ]
    limited = core.read_namespaced_pod_log("logs-driver", "default", limit_bytes=10, _preload_content=False)
    assert limited.data == b"INFO Spark"
    kube_api.clock.advance(3600)
    recent = core.read_namespaced_pod_log("logs-driver", "default", since_seconds=60, _preload_content=False)
    assert recent.data == b""
    stamped = core.read_namespaced_pod_log(
        "logs-driver", "default", tail_lines=1, timestamps=True, _preload_content=False
    )
    assert stamped.data.decode().split(" ", 1)[0].endswith("Z")


def test_logs_of_waiting_container_are_400(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    kube_api.script("wait", Hold(pending_for=1000))
    client.CustomObjectsApi(api).create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, spark_app("wait"))
    kube_api.wait_for(lambda: kube_api.get("pods", "wait-driver"))
    with pytest.raises(ApiException) as exc:
        client.CoreV1Api(api).read_namespaced_pod_log("wait-driver", "default")
    assert exc.value.status == 400
    assert "is waiting to start: ContainerCreating" in _status(exc.value)["message"]  # type: ignore[operator]


def test_nodes_and_namespaces(api: client.ApiClient, kube_api: KubeApiServer) -> None:
    kube_api.script("n", Hold(pending_for=0))
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, "jobs", PLURAL, spark_app("n", namespace="jobs")
    )
    kube_api.wait_for(lambda: len(kube_api.list("pods", "jobs", "spark-role")) == 2)
    core = client.CoreV1Api(api)
    assert "jobs" in {n.metadata.name for n in core.list_namespace().items}
    nodes = core.list_node(label_selector="karpenter.sh/capacity-type in (spot,on-demand)").items
    assert {n.metadata.labels["karpenter.sh/capacity-type"] for n in nodes} == {"on-demand", "spot"}
    driver = core.read_namespaced_pod("n-driver", "jobs")
    assert driver.spec.node_name in {n.metadata.name for n in nodes}
    core.delete_namespace("jobs")
    assert core.list_namespaced_pod("jobs").items == []


def test_pagination_generate_name_and_deletecollection(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    for _ in range(5):
        core.create_namespaced_config_map("default", {"metadata": {"generateName": "cm-", "labels": {"k": "v"}}})
    first = core.list_namespaced_config_map("default", limit=2)
    assert len(first.items) == 2 and first.metadata._continue and first.metadata.remaining_item_count == 3
    rest = core.list_namespaced_config_map("default", limit=10, _continue=first.metadata._continue)
    names = [c.metadata.name for c in first.items + rest.items]
    assert len(set(names)) == 5 and all(n.startswith("cm-") for n in names)
    core.delete_collection_namespaced_config_map("default", label_selector="k=v")
    assert core.list_namespaced_config_map("default").items == []
