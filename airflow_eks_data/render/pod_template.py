"""Driver and executor pod templates: placement, same-zone affinity, labels and ephemeral storage.

Spark itself merges a pod template into the pods it creates, so placement expressed here works on the
Spark Operator with or without its mutating webhook, and on EMR on EKS.
"""

from __future__ import annotations

from typing import Any, Literal

from airflow_eks_data.errors import format_path
from airflow_eks_data.render.sourced import Sourced
from airflow_eks_data.resolve.resolved import ResolvedJob

Role = Literal["driver", "executor"]

APP_LABEL = "airflow-eks-data/app"
"""Label unique to one application: the key of the same-zone pod affinity, and how pods are found."""
TENANT_LABEL = "airflow-eks-data/tenant"
JOB_LABEL = "airflow-eks-data/job"
DAG_LABEL, TASK_LABEL, RUN_LABEL = "airflow-eks-data/dag", "airflow-eks-data/task", "airflow-eks-data/run"
"""The Airflow task instance of every pod, for cost tools (Kubecost, Karpenter metrics, Datadog)."""
CONTAINER = {"driver": "spark-kubernetes-driver", "executor": "spark-kubernetes-executor"}

CAPACITY_KEY = "karpenter.sh/capacity-type"
ARCH_KEY = "kubernetes.io/arch"
NVME_KEY = "karpenter.k8s.aws/instance-local-nvme"
NODEPOOL_KEY = "karpenter.sh/nodepool"
ZONE_KEY = "topology.kubernetes.io/zone"


def owned_labels(job: ResolvedJob) -> dict[str, Any]:
    """The job's labels plus the ones this package owns (never overridable by a layer)."""
    labels: dict[str, Any] = {
        key: Sourced(value, job.origin(format_path(("labels", key)))) for key, value in job.labels.items()
    }
    labels[APP_LABEL] = job.app_name
    labels[TENANT_LABEL] = Sourced(job.tenant_name, job.origin("tenant"))
    labels[JOB_LABEL] = Sourced(job.job_name, job.origin("name"))
    return labels


def pod_template(job: ResolvedJob, role: Role, batch_scheduler: bool = False) -> dict[str, Any]:
    """A `PodTemplateSpec`-shaped document for one role. With `batch_scheduler` (the Spark Operator, whose
    webhook leaves templated pods alone), the pods name the job's batch scheduler and its PriorityClass."""
    spec: dict[str, Any] = {}
    affinity = _affinity(job, role)
    if affinity:
        spec["affinity"] = affinity
    placement = job.driver_placement if role == "driver" else job.executor_placement
    batch = job.batch_scheduler if batch_scheduler else None
    if batch:
        spec["schedulerName"] = Sourced(batch.name, job.origin("batch_scheduler.name"))
    priority_class = job.tenant.pinned.priority_class
    if priority_class:
        spec["priorityClassName"] = Sourced(priority_class, f"tenant:{job.tenant_name} (pinned)")
    elif batch and batch.priority_class:  # the profile load checked that the two agree
        spec["priorityClassName"] = Sourced(batch.priority_class, job.origin("batch_scheduler.priority_class"))
    if placement.tolerations:
        spec["tolerations"] = Sourced(placement.tolerations, job.origin(f"placement.{role}.tolerations"))
    container: dict[str, Any] = {"name": CONTAINER[role]}
    storage = job.ephemeral_storage
    if storage:
        origin = f"profile:{job.profile.name}"
        container["resources"] = {
            "requests": {"ephemeral-storage": Sourced(storage.request, origin)},
            "limits": {"ephemeral-storage": Sourced(storage.limit, origin)},
        }
    spec["containers"] = [container]
    return {"metadata": {"labels": owned_labels(job)}, "spec": spec}


def _affinity(job: ResolvedJob, role: Role) -> dict[str, Any]:
    expressions = node_expressions(job, role)
    affinity: dict[str, Any] = {}
    if expressions:
        affinity["nodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": expressions}]}
        }
    if job.same_zone:
        affinity["podAffinity"] = same_zone_affinity(job)
    return affinity


def same_zone_affinity(job: ResolvedJob) -> Sourced:
    """Required affinity to the application's own label: the driver (first pod) matches itself and lands
    anywhere; every executor then follows it into that zone, so shuffle never crosses AZs."""
    return Sourced(
        {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {APP_LABEL: job.app_name}}, "topologyKey": ZONE_KEY}
            ]
        },
        job.origin("placement.same_zone"),
    )


def node_expressions(job: ResolvedJob, role: Role) -> list[Sourced]:
    """The node requirements of one role's placement (`{key, operator, values}` each)."""
    placement = job.driver_placement if role == "driver" else job.executor_placement
    where = f"placement.{role}"
    expressions: list[Sourced] = []
    if placement.capacity:
        expressions.append(_expr(CAPACITY_KEY, "In", placement.capacity, job.origin(f"{where}.capacity")))
    if placement.arch:
        expressions.append(_expr(ARCH_KEY, "In", placement.arch, job.origin(f"{where}.arch")))
    if placement.min_local_nvme_gb:
        expressions.append(
            _expr(NVME_KEY, "Gt", str(placement.min_local_nvme_gb), job.origin(f"{where}.min_local_nvme_gb"))
        )
    if placement.node_pool:
        expressions.append(_expr(NODEPOOL_KEY, "In", placement.node_pool, job.origin(f"{where}.node_pool")))
    for key, value in placement.node_selector.items():
        expressions.append(_expr(key, "In", value, job.origin(f"{where}.node_selector")))
    return expressions


def _expr(key: str, operator: str, value: str, origin: str) -> Sourced:
    return Sourced({"key": key, "operator": operator, "values": [value]}, origin)
