"""The parts of a cluster a Spark job meets besides the operator: scheduler, Karpenter, kubelet
and the Spark driver itself. They move pods and nodes through the shapes and events the real
components produce, so the provider's failure classification reads realistic evidence.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Callable

from tests.kubeapi.clock import SimClock
from tests.kubeapi.logs import LogStore
from tests.kubeapi.resources import BY_PLURAL
from tests.kubeapi.scenarios import (
    DriverError,
    Hold,
    ImagePullBackOff,
    NodeLost,
    NoNodePool,
    OOMKilled,
    Outcome,
    PendingCapacity,
    QueueFull,
    SpotInterruption,
    Succeed,
)
from tests.kubeapi.shapes import (
    CAPACITY_TYPE,
    DRIVER_CONTAINER,
    driver_pod,
    executor_pod,
    executor_probe,
    node_body,
    selector_value,
    set_condition,
    startup_lines,
)
from tests.kubeapi.store import Obj, Store

PODS = BY_PLURAL["pods"]
NO_NODE_MESSAGE = (
    "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are "
    "available: 3 Preemption is not helpful for scheduling."
)
NODES = BY_PLURAL["nodes"]
EVENTS = BY_PLURAL["events"]


class Cluster:
    """Nodes, pods, events and logs, driven on the simulated clock."""

    def __init__(self, store: Store, logs: LogStore, clock: SimClock) -> None:
        self.store = store
        self.logs = logs
        self.clock = clock
        self._ids = itertools.count(1)
        self._on_node: dict[str, set[tuple[str, str]]] = {}  # node name -> (namespace, pod) scheduled there
        self._exec_prefix: dict[str, str] = {}  # driver uid -> executor pod name prefix, as Spark makes it

    # ---- events ------------------------------------------------------------------------------

    def event(
        self,
        involved: Obj,
        reason: str,
        message: str,
        *,
        warning: bool = False,
        component: str = "kubelet",
        field_path: str | None = None,
    ) -> None:
        """Record a core/v1 Event about ``involved`` (node events go to ``default``, as upstream)."""
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        now = self.clock.timestamp()
        ref: Obj = {
            "kind": involved["kind"],
            "apiVersion": involved["apiVersion"],
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if meta.get("namespace"):
            ref["namespace"] = meta["namespace"]
        if field_path:
            ref["fieldPath"] = field_path
        body: Obj = {
            "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": namespace},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "type": "Warning" if warning else "Normal",
            "source": {"component": component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": component,
            "reportingInstance": "",
        }
        self.ensure_namespace(namespace)
        self.store.create(EVENTS, namespace, body)

    def ensure_namespace(self, name: str) -> None:
        namespaces = BY_PLURAL["namespaces"]
        if self.store.get(namespaces, "", name) is None:
            self.store.create(namespaces, "", {"metadata": {"name": name}, "status": {"phase": "Active"}})

    # ---- nodes -------------------------------------------------------------------------------

    def make_node(self, capacity_type: str, zone: str | None = None, arch: str = "amd64") -> Obj:
        """A Karpenter-launched EC2 node, Ready."""
        return self.store.create(
            NODES, "", node_body(next(self._ids), capacity_type, self.clock.timestamp(), zone, arch)
        )

    def remove_node(self, name: str) -> None:
        if self.store.get(NODES, "", name) is not None:
            self.store.delete(NODES, "", name)
        self._on_node.pop(name, None)

    def node_for(self, pod: Obj, default_capacity: str) -> Obj:
        spec = pod["spec"]
        capacity = selector_value(spec, CAPACITY_TYPE) or default_capacity
        zone = selector_value(spec, "topology.kubernetes.io/zone")
        arch = selector_value(spec, "kubernetes.io/arch") or "amd64"
        return self.make_node(capacity, zone, arch)

    def _set_node(self, name: str, fn: Callable[[Obj], None]) -> None:
        self.store.mutate(NODES, "", name, fn)

    # ---- pods --------------------------------------------------------------------------------

    def pods_on(self, node_name: str) -> list[Obj]:
        pods = []
        for namespace, name in sorted(self._on_node.get(node_name, ())):
            pod = self._pod(namespace, name)
            if pod is not None and pod["spec"].get("nodeName") == node_name:
                pods.append(pod)
        return pods

    def _pod(self, namespace: str, name: str) -> Obj | None:
        return self.store.get(PODS, namespace, name)

    def _update_pod(self, pod: Obj, fn: Callable[[Obj], None]) -> Obj | None:
        meta = pod["metadata"]
        current = self._pod(meta["namespace"], meta["name"])
        if current is None or current["metadata"]["uid"] != meta["uid"]:
            return None
        return self.store.mutate(PODS, meta["namespace"], meta["name"], fn)

    def log(self, pod: Obj, text: str) -> None:
        container = pod["spec"]["containers"][0]["name"]
        self.logs.get(pod["metadata"]["namespace"], pod["metadata"]["name"], container).append(self.clock.wall(), text)

    def alive(self, pod: Obj) -> bool:
        current = self._pod(pod["metadata"]["namespace"], pod["metadata"]["name"])
        return current is not None and current["metadata"]["uid"] == pod["metadata"]["uid"]

    def schedule(self, pod: Obj, node: Obj) -> Obj | None:
        now = self.clock.timestamp()
        node_name = node["metadata"]["name"]

        def fn(obj: Obj) -> None:
            obj["spec"]["nodeName"] = node_name
            set_condition(obj, "PodScheduled", "True", now)

        updated = self._update_pod(pod, fn)
        if updated is not None:
            meta = pod["metadata"]
            self._on_node.setdefault(node_name, set()).add((meta["namespace"], meta["name"]))
            self.event(
                updated,
                "Scheduled",
                f"Successfully assigned {meta['namespace']}/{meta['name']} to {node_name}",
                component="default-scheduler",
            )
        return updated

    def start(self, pod: Obj) -> Obj | None:
        now = self.clock.timestamp()
        node = self.store.get(NODES, "", pod["spec"].get("nodeName", ""))
        host_ip = node["status"]["addresses"][0]["address"] if node else "10.0.0.1"
        container = pod["spec"]["containers"][0]

        def fn(obj: Obj) -> None:
            status = obj["status"]
            status.update(
                phase="Running",
                hostIP=host_ip,
                podIP=f"10.1.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}",
                startTime=now,
            )
            status["containerStatuses"] = [
                {
                    "name": container["name"],
                    "image": container["image"],
                    "imageID": f"{container['image']}@sha256:{secrets.token_hex(32)}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                    "lastState": {},
                }
            ]
            for cond in ("Initialized", "ContainersReady", "Ready"):
                set_condition(obj, cond, "True", now)

        updated = self._update_pod(pod, fn)
        if updated is not None:
            path = f"spec.containers{{{container['name']}}}"
            self.event(
                updated, "Pulled", f'Container image "{container["image"]}" already present on machine', field_path=path
            )
            self.event(updated, "Created", f"Created container {container['name']}", field_path=path)
            self.event(updated, "Started", f"Started container {container['name']}", field_path=path)
        return updated

    def waiting(self, pod: Obj, reason: str, message: str) -> Obj | None:
        container = pod["spec"]["containers"][0]

        def fn(obj: Obj) -> None:
            obj["status"]["containerStatuses"] = [
                {
                    "name": container["name"],
                    "image": container["image"],
                    "imageID": "",
                    "ready": False,
                    "started": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": reason, "message": message}},
                    "lastState": {},
                }
            ]
            set_condition(obj, "Ready", "False", self.clock.timestamp(), reason="ContainersNotReady")

        return self._update_pod(pod, fn)

    def terminate(self, pod: Obj, exit_code: int, reason: str, message: str | None = None) -> Obj | None:
        """The container exits; the pod turns Succeeded or Failed (restartPolicy Never)."""
        now = self.clock.timestamp()

        def fn(obj: Obj) -> None:
            status = obj["status"]
            status["phase"] = "Succeeded" if exit_code == 0 else "Failed"
            for cs in status.get("containerStatuses", []):
                started = cs.get("state", {}).get("running", {}).get("startedAt", now)
                terminated: Obj = {
                    "exitCode": exit_code,
                    "reason": reason,
                    "startedAt": started,
                    "finishedAt": now,
                    "containerID": f"containerd://{secrets.token_hex(32)}",
                }
                if message:
                    terminated["message"] = message
                cs.update(ready=False, started=False, state={"terminated": terminated})
            done = "PodCompleted" if exit_code == 0 else "PodFailed"
            set_condition(obj, "Ready", "False", now, reason=done)
            set_condition(obj, "ContainersReady", "False", now, reason=done)

        updated = self._update_pod(pod, fn)
        meta = pod["metadata"]
        self.logs.get(meta["namespace"], meta["name"], pod["spec"]["containers"][0]["name"]).close()
        return updated

    def delete_pod(self, pod: Obj) -> None:
        if self.alive(pod):
            self.store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])

    def make_executor(self, app: Obj, driver: Obj, exec_id: int) -> Obj:
        """An executor pod as the Spark driver creates it (owned by the driver pod)."""
        prefix = self._exec_prefix.setdefault(
            driver["metadata"]["uid"], f"{app['metadata']['name'][:40]}-{secrets.token_hex(8)}"
        )
        return self.store.create(PODS, app["metadata"]["namespace"], executor_pod(app, driver, exec_id, prefix))

    def make_driver(self, app: Obj, submission_id: str, app_id: str) -> Obj:
        """The driver pod spark-submit creates."""
        return self.store.create(PODS, app["metadata"]["namespace"], driver_pod(app, submission_id, app_id))

    # ---- attempt script ----------------------------------------------------------------------

    async def run_attempt(self, app: Obj, driver: Obj, outcome: Outcome) -> None:
        """Play one submission attempt's pods to the end ``outcome`` describes.

        Stops as soon as the driver pod is gone (deleted by a user, the operator or the GC).
        """
        sleep = self.clock.sleep
        await sleep(outcome.pending_for)
        if not self.alive(driver):
            return
        if isinstance(outcome, PendingCapacity) and not await self._wait_for_capacity(driver, outcome.provision_after):
            return
        if isinstance(outcome, QueueFull) or (isinstance(outcome, NoNodePool) and not outcome.executors_only):
            await self._never_scheduled([driver], driver, outcome)
            return
        node = self.node_for(driver, "spot" if isinstance(outcome, SpotInterruption) else "on-demand")
        scheduled = self.schedule(driver, node)
        if scheduled is None:
            return
        driver = scheduled
        if isinstance(outcome, ImagePullBackOff) and not await self._image_pull_backoff(driver, outcome):
            return
        running = self.start(driver)
        if running is None:
            return
        driver = running
        for line in startup_lines(app):
            self.log(driver, line)
        if isinstance(outcome, NoNodePool):  # executors_only: the driver runs, its executors never start
            count = outcome.executors or int((app["spec"].get("executor") or {}).get("instances") or 1)
            pods = [self.make_executor(app, driver, exec_id) for exec_id in range(1, count + 1)]
            self.log(driver, "WARN TaskSchedulerImpl: Initial job has not accepted any resources")
            await self._never_scheduled(pods, driver, outcome)
            return
        executors = await self._start_executors(app, driver, outcome)
        if isinstance(outcome, Succeed) and outcome.executor_losses:
            executors = await self._lose_executors(app, driver, executors, outcome)
        else:
            await sleep(outcome.run_for) if not math.isinf(outcome.run_for) else await self._forever(driver)
        for line in outcome.log_lines:
            self.log(driver, line)
        if not self.alive(driver):
            return
        if isinstance(outcome, SpotInterruption):
            await self._spot_interrupt(driver, node, outcome)
            return
        if isinstance(outcome, NodeLost):
            await self._node_lost(driver, node, outcome)
            return
        executor_nodes = {e["spec"].get("nodeName", "") for e in executors}
        for executor in executors:
            self.delete_pod(executor)
        for name in executor_nodes:
            executor_node = self.store.get(NODES, "", name)
            if executor_node is not None:
                self._drain_node(executor_node)
        if isinstance(outcome, DriverError):
            self.log(driver, "Traceback (most recent call last):")
            self.log(driver, '  File "/opt/spark/work-dir/main.py", line 12, in <module>')
            self.log(driver, outcome.error)
            self.terminate(driver, outcome.exit_code, "Error")
        elif isinstance(outcome, OOMKilled):
            self.log(driver, "java.lang.OutOfMemoryError: Java heap space")
            self.terminate(driver, 137, "OOMKilled")
        elif isinstance(outcome, Hold):
            return
        else:
            self.log(driver, "INFO SparkContext: Successfully stopped SparkContext")
            self.log(driver, "INFO ShutdownHookManager: Shutdown hook called")
            self.terminate(driver, 0, "Completed")
        self._drain_node(node)

    async def _forever(self, driver: Obj) -> None:
        while self.alive(driver):
            await self.clock.sleep(3600)

    async def _wait_for_capacity(self, driver: Obj, provision_after: float) -> bool:
        now = self.clock.timestamp()

        def fn(obj: Obj) -> None:
            set_condition(
                obj,
                "PodScheduled",
                "False",
                now,
                reason="Unschedulable",
                message="0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. "
                "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
            )

        if self._update_pod(driver, fn) is None:
            return False
        deadline = self.clock.now() + provision_after
        nominated = False
        while self.clock.now() < deadline:
            current = self._pod(driver["metadata"]["namespace"], driver["metadata"]["name"])
            if current is None or not self.alive(driver):
                return False
            self.event(
                current,
                "FailedScheduling",
                "0/4 nodes are available: 4 node(s) didn't match Pod's node affinity/selector. "
                "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
                warning=True,
                component="default-scheduler",
            )
            if not nominated:
                self.event(
                    current,
                    "Nominated",
                    f"Pod should schedule on: nodeclaim/spark-on-demand-{secrets.token_hex(3)}",
                    component="karpenter",
                )
                nominated = True
            await self.clock.sleep_until(min(self.clock.now() + 10.0, deadline))
        return self.alive(driver)

    async def _never_scheduled(self, pods: list[Obj], owner: Obj, outcome: NoNodePool | QueueFull) -> None:
        """``pods`` stay Pending while ``owner`` lives: the condition and events of the scheduler and
        Karpenter (no NodePool matches), or of YuniKorn (the queue does not admit the application)."""
        now = self.clock.timestamp()
        for pod in pods:
            reason, message = "Unschedulable", NO_NODE_MESSAGE
            if isinstance(outcome, QueueFull):
                message = (
                    f"Request '{pod['metadata']['uid']}' does not fit in queue '{outcome.queue}' (requested "
                    "map[memory:2816Mi pods:1 vcore:1000m], available map[memory:0 pods:0 vcore:0])"
                )

            def fn(obj: Obj, reason: str = reason, message: str = message) -> None:
                set_condition(obj, "PodScheduled", "False", now, reason=reason, message=message)

            self._update_pod(pod, fn)
        while self.alive(owner):
            for pod in pods:
                current = self._pod(pod["metadata"]["namespace"], pod["metadata"]["name"])
                if current is None or not self.alive(pod):
                    continue
                if isinstance(outcome, QueueFull):
                    meta = current["metadata"]
                    queued = f"{meta['namespace']}/{meta['name']} is queued and waiting for allocation"
                    self.event(current, "Scheduling", queued, component="yunikorn")
                    continue
                self.event(current, "FailedScheduling", NO_NODE_MESSAGE, warning=True, component="default-scheduler")
                wanted = selector_value(current["spec"], "kubernetes.io/arch") or "amd64"
                offered = "amd64" if wanted == "arm64" else "arm64"
                self.event(
                    current,
                    "FailedScheduling",
                    f'Failed to schedule pod, incompatible with nodepool "{outcome.nodepool}", daemonset overhead='
                    '{"cpu":"180m","memory":"128Mi","pods":"4"}, incompatible requirements, key kubernetes.io/arch, '
                    f"kubernetes.io/arch In [{wanted}] not in kubernetes.io/arch In [{offered}]",
                    warning=True,
                    component="karpenter",
                )
            await self.clock.sleep(10.0)

    async def _image_pull_backoff(self, driver: Obj, outcome: ImagePullBackOff) -> bool:
        image = outcome.image or driver["spec"]["containers"][0]["image"]
        path = f"spec.containers{{{DRIVER_CONTAINER}}}"
        deadline = self.clock.now() + (math.inf if outcome.recover_after is None else outcome.recover_after)
        while self.clock.now() < deadline:
            current = self.waiting(driver, "ErrImagePull", f'failed to pull and unpack image "{image}": not found')
            if current is None:
                return False
            self.event(current, "Pulling", f'Pulling image "{image}"', field_path=path)
            self.event(
                current,
                "Failed",
                f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
                f'unpack image "{image}": not found',
                warning=True,
                field_path=path,
            )
            await self.clock.sleep(1.0)
            current = self.waiting(driver, "ImagePullBackOff", f'Back-off pulling image "{image}"')
            if current is None:
                return False
            self.event(current, "BackOff", f'Back-off pulling image "{image}"', warning=True, field_path=path)
            await self.clock.sleep_until(min(self.clock.now() + 10.0, deadline))
        return self.alive(driver)

    async def _start_executors(self, app: Obj, driver: Obj, outcome: Outcome) -> list[Obj]:
        count = outcome.executors
        if count is None:
            count = int((app["spec"].get("executor") or {}).get("instances") or 1)
        await self.clock.sleep(min(1.0, outcome.run_for / 4))
        if not self.alive(driver) or count == 0:
            return []
        node = self.node_for(executor_probe(app), "spot")
        executors: list[Obj] = []
        for exec_id in range(1, count + 1):
            executors.append(self._launch_executor(app, driver, exec_id, node))
        return [e for e in executors if e]

    def _launch_executor(self, app: Obj, driver: Obj, exec_id: int, node: Obj) -> Obj:
        pod = self.make_executor(app, driver, exec_id)
        self.schedule(pod, node)
        started = self.start(pod)
        self.log(driver, f"INFO KubernetesClusterSchedulerBackend: Executor {exec_id} registered")
        return started or pod

    async def _lose_executors(self, app: Obj, driver: Obj, executors: list[Obj], outcome: Succeed) -> list[Obj]:
        step = outcome.run_for / (outcome.executor_losses + 1)
        next_id = len(executors) + 1
        for _ in range(outcome.executor_losses):
            await self.clock.sleep(step)
            if not self.alive(driver) or not executors:
                return executors
            victim = executors.pop(0)
            node = self.store.get(NODES, "", victim["spec"].get("nodeName", ""))
            if node is not None:
                self._interruption_events(node, [victim])
            self._evict(victim)
            self.terminate(victim, 143, "Error")
            exec_id = victim["metadata"]["labels"]["spark-exec-id"]
            self.log(
                driver,
                f"ERROR TaskSchedulerImpl: Lost executor {exec_id}: The executor with id {exec_id} "
                "exited with exit code 143(SIGTERM, probably killed externally).",
            )
            await self.clock.sleep(0.5)
            self.delete_pod(victim)
            fresh_node = self.node_for(executor_probe(app), "spot")
            executors.append(self._launch_executor(app, driver, next_id, fresh_node))
            next_id += 1
        await self.clock.sleep(step)
        return executors

    def _interruption_events(self, node: Obj, pods: list[Obj]) -> None:
        self.event(
            node, "SpotInterrupted", "Spot interruption warning was triggered", warning=True, component="karpenter"
        )
        for pod in pods:
            current = self._pod(pod["metadata"]["namespace"], pod["metadata"]["name"])
            if current is not None:
                self.event(
                    current,
                    "SpotInterrupted",
                    "Spot interruption warning was triggered",
                    warning=True,
                    component="karpenter",
                )
        self.event(
            node,
            "TerminatingOnInterruption",
            "Interruption triggered termination for the Node",
            warning=True,
            component="karpenter",
        )
        for pod in pods:
            current = self._pod(pod["metadata"]["namespace"], pod["metadata"]["name"])
            if current is not None:
                self.event(
                    current,
                    "TerminatingOnInterruption",
                    "Interruption triggered termination for the Pod",
                    warning=True,
                    component="karpenter",
                )

        def taint(obj: Obj) -> None:
            taints = obj["spec"].setdefault("taints", [])
            taints.append({"key": "karpenter.sh/disrupted", "effect": "NoSchedule"})
            obj["spec"]["unschedulable"] = True

        self._set_node(node["metadata"]["name"], taint)

    def _evict(self, pod: Obj) -> None:
        """The drain's Eviction API call: DisruptionTarget condition, then graceful deletion starts."""
        now = self.clock.timestamp()

        def fn(obj: Obj) -> None:
            set_condition(
                obj, "DisruptionTarget", "True", now, reason="EvictionByEvictionAPI", message="Eviction API: evicting"
            )
            obj["metadata"]["deletionTimestamp"] = now
            obj["metadata"]["deletionGracePeriodSeconds"] = obj["spec"].get("terminationGracePeriodSeconds", 30)

        current = self._update_pod(pod, fn)
        if current is not None:
            container = pod["spec"]["containers"][0]["name"]
            self.event(
                current, "Killing", f"Stopping container {container}", field_path=f"spec.containers{{{container}}}"
            )

    async def _spot_interrupt(self, driver: Obj, node: Obj, outcome: SpotInterruption) -> None:
        on_node = self.pods_on(node["metadata"]["name"])
        self._interruption_events(node, on_node)
        await self.clock.sleep(outcome.notice)
        for pod in on_node:
            self._evict(pod)
        self.log(driver, "ERROR SparkUncaughtExceptionHandler: RECEIVED SIGNAL TERM")
        await self.clock.sleep(outcome.grace)
        for pod in on_node:
            self.terminate(pod, 143, "Error")
        await self.clock.sleep(outcome.linger)
        for pod in on_node:
            self.delete_pod(pod)
        self.remove_node(node["metadata"]["name"])

    async def _node_lost(self, driver: Obj, node: Obj, outcome: NodeLost) -> None:
        now = self.clock.timestamp()
        node_name = node["metadata"]["name"]

        def unreachable(obj: Obj) -> None:
            for cond in obj["status"]["conditions"]:
                if cond["type"] == "Ready":
                    cond.update(
                        status="Unknown",
                        reason="NodeStatusUnknown",
                        message="Kubelet stopped posting node status.",
                        lastTransitionTime=now,
                    )
            obj["spec"].setdefault("taints", []).append(
                {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": now}
            )

        self._set_node(node_name, unreachable)
        self.event(node, "NodeNotReady", f"Node {node_name} status is now: NodeNotReady", component="node-controller")
        on_node = self.pods_on(node_name)
        for pod in on_node:  # the node lifecycle controller marks each of its pods not ready, with an event
            self.event(pod, "NodeNotReady", "Node is not ready", warning=True, component="node-controller")
        if outcome.unknown_for > 0:
            for pod in on_node:

                def unknown(obj: Obj) -> None:
                    obj["status"]["phase"] = "Unknown"
                    obj["status"]["reason"] = "NodeLost"
                    obj["status"]["message"] = (
                        f"Node {node_name} which was running pod {obj['metadata']['name']} is unresponsive"
                    )
                    set_condition(obj, "Ready", "False", now, reason="NodeLost")

                self._update_pod(pod, unknown)
            await self.clock.sleep(outcome.unknown_for)
        # PodGC removes pods bound to a Node object that no longer exists.
        self.remove_node(node_name)
        for pod in on_node:

            def gc(obj: Obj) -> None:
                set_condition(
                    obj,
                    "DisruptionTarget",
                    "True",
                    self.clock.timestamp(),
                    reason="DeletionByPodGC",
                    message="PodGC: node no longer exists",
                )

            self._update_pod(pod, gc)
            self.delete_pod(pod)

    def _drain_node(self, node: Obj) -> None:
        """Karpenter consolidates an empty node away once its pods are done."""
        node_name = node["metadata"]["name"]
        busy = any(p["status"].get("phase") in ("Pending", "Running") for p in self.pods_on(node_name))
        if not busy:
            self.remove_node(node_name)
