"""Object shapes the operator, Spark and Karpenter create: driver/executor pods and nodes.

Pure functions (no store, no clock), so the labels and fields a provider reads off real pods are in
one place: operator labels, labels carried over from the app, ``spec.driver``/``executor`` and
their pod templates, owner references, Karpenter node labels.
"""

from __future__ import annotations

import secrets
from typing import Any

from tests.kubeapi.resources import SPARK_GROUP
from tests.kubeapi.store import Obj, clone

DRIVER_CONTAINER = "spark-kubernetes-driver"
EXECUTOR_CONTAINER = "spark-kubernetes-executor"
CAPACITY_TYPE = "karpenter.sh/capacity-type"
APP_NAME = "sparkoperator.k8s.io/app-name"
SUBMISSION_ID = "sparkoperator.k8s.io/submission-id"
LAUNCHED_BY = "sparkoperator.k8s.io/launched-by-spark-operator"
ROLE = "spark-role"
APP_SELECTOR = "spark-app-selector"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
KUEUE_PREFIX = "kueue.x-k8s.io/"


def spark_memory_mib(value: Any, default: int = 1024) -> int:
    """``512m``/``4g``/``4Gi`` as Spark reads them, in MiB."""
    if value is None:
        return default
    text = str(value).strip().lower().removesuffix("i").removesuffix("b")
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    if text and text[-1] in units:
        return max(1, int(float(text[:-1]) * units[text[-1]]))
    return max(1, int(float(text)))  # Spark reads a bare number as MiB


def selector_value(pod_spec: Obj, key: str) -> str | None:
    """The value a pod asks for through nodeSelector or required node affinity."""
    if key in (pod_spec.get("nodeSelector") or {}):
        return str(pod_spec["nodeSelector"][key])
    required = (
        pod_spec.get("affinity", {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution", {})
    )
    for term in required.get("nodeSelectorTerms", []):
        for expr in term.get("matchExpressions", []):
            if expr.get("key") == key and expr.get("operator") == "In" and expr.get("values"):
                return str(expr["values"][0])
    return None


def node_body(n: int, capacity_type: str, now: str, zone: str | None = None, arch: str = "amd64") -> Obj:
    """A Karpenter-launched EC2 node (number ``n``), Ready."""
    zone = zone or ZONES[n % len(ZONES)]
    name = f"ip-10-0-{n // 250}-{n % 250 + 1}.ec2.internal"
    instance = "m6gd.2xlarge" if arch == "arm64" else "m6id.2xlarge"
    pool = "spark-spot" if capacity_type == "spot" else "spark-on-demand"
    body: Obj = {
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/arch": arch,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": instance,
                "topology.kubernetes.io/zone": zone,
                "topology.kubernetes.io/region": "us-east-1",
                CAPACITY_TYPE: capacity_type,
                "karpenter.sh/nodepool": pool,
                "karpenter.sh/initialized": "true",
                "karpenter.sh/registered": "true",
                "karpenter.k8s.aws/instance-local-nvme": "474",
            },
        },
        "spec": {"providerID": f"aws:///{zone}/i-0{secrets.token_hex(8)}"},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "capacity": {"cpu": "8", "memory": "32386856Ki", "pods": "58"},
            "allocatable": {"cpu": "7910m", "memory": "31369000Ki", "pods": "58"},
            "addresses": [{"type": "InternalIP", "address": f"10.0.{n // 250}.{n % 250 + 1}"}],
            "nodeInfo": {
                "architecture": arch,
                "bootID": secrets.token_hex(16),
                "containerRuntimeVersion": "containerd://1.7.27+bottlerocket",
                "kernelVersion": "6.1.134",
                "kubeProxyVersion": "v1.32.4-eks-1234567",
                "kubeletVersion": "v1.32.4-eks-1234567",
                "machineID": secrets.token_hex(16),
                "operatingSystem": "linux",
                "osImage": "Bottlerocket OS 1.39.1 (aws-k8s-1.32)",
                "systemUUID": secrets.token_hex(16),
            },
        },
    }
    return body


def executor_pod(app: Obj, driver: Obj, exec_id: int, prefix: str) -> Obj:
    """An executor pod as the Spark driver creates it (owned by the driver pod)."""
    spec = app["spec"]
    executor = spec.get("executor") or {}
    template = executor.get("template") or {}
    labels = base_labels(app)
    labels.update(executor.get("labels") or {})
    labels.update((template.get("metadata") or {}).get("labels") or {})
    d_labels = driver["metadata"]["labels"]
    labels.update(
        {
            APP_NAME: app["metadata"]["name"],
            LAUNCHED_BY: "true",
            SUBMISSION_ID: d_labels[SUBMISSION_ID],
            ROLE: "executor",
            APP_SELECTOR: d_labels[APP_SELECTOR],
            "spark-exec-id": str(exec_id),
            "spark-exec-resourceprofile-id": "0",
        }
    )
    memory = spark_memory_mib(executor.get("memory"))
    body: Obj = {
        "metadata": {
            "name": f"{prefix}-exec-{exec_id}",
            "labels": labels,
            "annotations": {**(executor.get("annotations") or {})},
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": driver["metadata"]["name"],
                    "uid": driver["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": pod_spec(
            spec,
            executor,
            EXECUTOR_CONTAINER,
            ["executor"],
            memory,
        ),
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }
    return body


def driver_pod(app: Obj, submission_id: str, app_id: str) -> Obj:
    """The driver pod spark-submit creates: operator labels, app and driver labels, owner ref."""
    spec = app["spec"]
    driver = spec.get("driver") or {}
    template = driver.get("template") or {}
    labels = base_labels(app)
    labels.update(driver.get("labels") or {})
    labels.update((template.get("metadata") or {}).get("labels") or {})
    name = app["metadata"]["name"]
    labels.update(
        {
            APP_NAME: name,
            LAUNCHED_BY: "true",
            SUBMISSION_ID: submission_id,
            ROLE: "driver",
            APP_SELECTOR: app_id,
            "spark-app-name": name,
            "spark-version": str(spec.get("sparkVersion", "")),
        }
    )
    annotations = {**((template.get("metadata") or {}).get("annotations") or {})}
    annotations.update(driver.get("annotations") or {})
    args = ["driver", "--properties-file", "/opt/spark/conf/spark.properties"]
    if spec.get("mainClass"):
        args += ["--class", spec["mainClass"]]
    args += [spec.get("mainApplicationFile", ""), *[str(a) for a in spec.get("arguments", [])]]
    body: Obj = {
        "metadata": {
            "name": driver.get("podName") or f"{name}-driver",
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": f"{SPARK_GROUP}/v1beta2",
                    "kind": "SparkApplication",
                    "name": name,
                    "uid": app["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": pod_spec(spec, driver, DRIVER_CONTAINER, args, spark_memory_mib(driver.get("memory"))),
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }
    return body


def executor_probe(app: Obj) -> Obj:
    """A pod-shaped view of the executor spec, to choose its node like the scheduler would."""
    executor = app["spec"].get("executor") or {}
    template_spec = (executor.get("template") or {}).get("spec") or {}
    return {"spec": {**template_spec, **{k: v for k, v in executor.items() if k in ("nodeSelector", "affinity")}}}


def base_labels(app: Obj) -> dict[str, str]:
    labels = dict(app["metadata"].get("labels") or {})
    return {k: v for k, v in labels.items() if not k.startswith(KUEUE_PREFIX)}


def pod_spec(app_spec: Obj, role: Obj, container_name: str, args: list[str], memory_mib: int) -> Obj:
    template_spec: Obj = clone((role.get("template") or {}).get("spec") or {})
    overhead = max(384, memory_mib // 10)
    env = [*(role.get("env") or []), {"name": "SPARK_USER", "value": "spark"}]
    container: Obj = {
        "name": container_name,
        "image": role.get("image") or app_spec.get("image") or "spark:3.5.5",
        "args": args,
        "env": env,
        "resources": {
            "requests": {
                "cpu": str(role.get("coreRequest") or role.get("cores") or 1),
                "memory": f"{memory_mib + overhead}Mi",
            },
            "limits": {"memory": f"{memory_mib + overhead}Mi"},
        },
        "volumeMounts": list(role.get("volumeMounts") or []),
        "imagePullPolicy": app_spec.get("imagePullPolicy", "IfNotPresent"),
    }
    spec = template_spec
    spec["containers"] = [container]
    spec.setdefault("restartPolicy", "Never")
    spec.setdefault("serviceAccountName", role.get("serviceAccount") or "default")
    spec.setdefault("terminationGracePeriodSeconds", role.get("terminationGracePeriodSeconds", 30))
    spec.setdefault("schedulerName", role.get("schedulerName") or "default-scheduler")
    node_selector = {
        **(spec.get("nodeSelector") or {}),
        **(app_spec.get("nodeSelector") or {}),
        **(role.get("nodeSelector") or {}),
    }
    if node_selector:
        spec["nodeSelector"] = node_selector
    for key in ("affinity", "tolerations"):
        if role.get(key):
            spec[key] = role[key]
    if app_spec.get("volumes"):
        spec["volumes"] = [*spec.get("volumes", []), *app_spec["volumes"]]
    return spec


def set_condition(
    obj: Obj, kind: str, status: str, now: str, *, reason: str | None = None, message: str | None = None
) -> None:
    conditions: list[Obj] = obj["status"].setdefault("conditions", [])
    for cond in conditions:
        if cond["type"] == kind:
            if cond["status"] != status:
                cond["lastTransitionTime"] = now
            cond["status"] = status
            break
    else:
        cond = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": now}
        conditions.append(cond)
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message


def startup_lines(app: Obj) -> list[str]:
    name = app["metadata"]["name"]
    version = app["spec"].get("sparkVersion", "3.5.5")
    return [
        f"INFO SparkContext: Running Spark version {version}",
        f"INFO SparkContext: Submitted application: {name}",
        "INFO Utils: Successfully started service 'SparkUI' on port 4040.",
        "INFO KubernetesClusterSchedulerBackend: SchedulerBackend is ready for scheduling",
    ]
