"""A job's batch scheduler (YuniKorn or Volcano) as the Spark Operator and Spark read it.

YuniKorn takes everything from the pods: the queue from an annotation (and the legacy `queue` label,
which would otherwise let a label choose it), and for gang scheduling the driver's task groups, one for
the driver and one for the executors that must start with it. Each group's `minResource` is the pod's
request as `pod_requests` computes it (heap + overhead + off-heap + Python memory), so placeholders
reserve exactly what the real pods then claim, on the nodes the profile places them on.

Volcano gets its PodGroup from the Spark Operator, built from `batchSchedulerOptions`: the queue, the
PriorityClass and, as the PodGroup's minimum, the whole gang's resources (gang) or the driver's alone.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_eks_data.render.pod_template import APP_LABEL, Role, node_expressions, same_zone_affinity
from airflow_eks_data.render.sourced import Sourced, split
from airflow_eks_data.resolve.resolved import ResolvedBatchScheduler, ResolvedJob

YUNIKORN, VOLCANO = "yunikorn", "volcano"
TASK_GROUP_NAME = "yunikorn.apache.org/task-group-name"
TASK_GROUPS = "yunikorn.apache.org/task-groups"
SCHEDULING_POLICY = "yunikorn.apache.org/schedulingPolicyParameters"
YUNIKORN_QUEUE = "yunikorn.apache.org/queue"
QUEUE_LABEL = "queue"
"""YuniKorn's legacy queue label, which it reads before the annotation."""
VOLCANO_QUEUE = "scheduling.volcano.sh/queue-name"
TASK_GROUP = {"driver": "spark-driver", "executor": "spark-executor"}
ROLES: tuple[Role, Role] = ("driver", "executor")


def spark_application_fields(job: ResolvedJob) -> dict[str, Any]:
    """`spec.batchScheduler` and `spec.batchSchedulerOptions` of the SparkApplication."""
    batch = job.batch_scheduler
    if batch is None:
        return {}
    options: dict[str, Any] = {"queue": Sourced(batch.queue, job.origin("batch_scheduler.queue"))}
    if batch.priority_class:
        options["priorityClassName"] = Sourced(batch.priority_class, job.origin("batch_scheduler.priority_class"))
    if batch.name == VOLCANO:
        # The PodGroup's minimum: admitted only when the whole gang fits, or once the driver does.
        cpu, memory = gang_total(job) if batch.gang else _request(job, "driver")
        options["resources"] = Sourced({"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)}, _gang(job))
    return {"batchScheduler": Sourced(batch.name, job.origin("batch_scheduler.name")), "batchSchedulerOptions": options}


def pod_annotations(job: ResolvedJob, role: Role) -> dict[str, Sourced]:
    """Annotations one role's pods carry for the scheduler: the queue, and the task groups under gang."""
    batch = job.batch_scheduler
    if batch is None:
        return {}
    queue = Sourced(batch.queue, job.origin("batch_scheduler.queue"))
    if batch.name == VOLCANO:
        return {VOLCANO_QUEUE: queue}
    annotations = {YUNIKORN_QUEUE: queue}
    if batch.gang:
        annotations[TASK_GROUP_NAME] = Sourced(TASK_GROUP[role], _gang(job))
        if role == "driver":  # YuniKorn reads the groups from the application's first pod
            annotations[TASK_GROUPS] = Sourced(json.dumps(task_groups(job), separators=(",", ":")), _gang(job))
            annotations[SCHEDULING_POLICY] = Sourced(scheduling_policy(batch), _gang(job))
    return annotations


def pod_labels(job: ResolvedJob) -> dict[str, Sourced]:
    """YuniKorn's queue label on the pods (the resolver refuses a layer's own `queue` label)."""
    batch = job.batch_scheduler
    if batch is None or batch.name != YUNIKORN:
        return {}
    return {QUEUE_LABEL: Sourced(batch.queue, job.origin("batch_scheduler.queue"))}


def scheduling_policy(batch: ResolvedBatchScheduler) -> str:
    """`placeholderTimeoutInSeconds=600 gangSchedulingStyle=Hard` (YuniKorn's own timeout when unset)."""
    parts = (
        [f"placeholderTimeoutInSeconds={batch.placeholder_timeout_seconds}"]
        if batch.placeholder_timeout_seconds
        else []
    )
    return " ".join([*parts, f"gangSchedulingStyle={batch.gang_style}"])


def gang_members(job: ResolvedJob) -> dict[Role, int]:
    """Pods that must start together: the driver, and the executors Spark asks for first (under dynamic
    allocation its minimum, at least one). YuniKorn refuses a group of zero, so none is left out."""
    dynamic = job.dynamic_allocation
    executors = max(dynamic.min_executors, 1) if dynamic else job.executor_instances
    return {"driver": 1, "executor": executors}


def task_groups(job: ResolvedJob) -> list[dict[str, Any]]:
    """YuniKorn's task groups: each group's size, its pods' request, and where the profile places them."""
    groups = []
    for role, members in gang_members(job).items():
        if members < 1:
            continue
        cpu, memory = _request(job, role)
        group: dict[str, Any] = {
            "name": TASK_GROUP[role],
            "minMember": members,
            "minResource": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)},
        }
        group.update(_placement(job, role))
        groups.append(group)
    return groups


def gang_total(job: ResolvedJob) -> tuple[float, int]:
    """CPU (cores) and memory (KiB) of every pod of the gang together."""
    cpu, memory = 0.0, 0
    for role, members in gang_members(job).items():
        role_cpu, role_memory = _request(job, role)
        cpu, memory = cpu + members * role_cpu, memory + members * role_memory
    return cpu, memory


def cpu_quantity(cores: float) -> str:
    """`4`, `1500m`: Kubernetes' spelling of a CPU amount."""
    return str(int(cores)) if cores == int(cores) else f"{round(cores * 1000)}m"


def memory_quantity(kib: int) -> str:
    """`9216Mi` (Spark requests whole MiB), or `Ki` for an off-heap size that is not."""
    return f"{kib // 1024}Mi" if kib % 1024 == 0 else f"{kib}Ki"


def _request(job: ResolvedJob, role: Role) -> tuple[float, int]:
    pod = job.pod_requests[role]
    return pod.cores, pod.memory_kib


def _gang(job: ResolvedJob) -> str:
    return job.origin("batch_scheduler.gang")


def _placement(job: ResolvedJob, role: Role) -> dict[str, Any]:
    """The role's node requirements (single values as `nodeSelector`, the rest as node affinity), its
    tolerations, and the same-zone affinity with the label it keys on, so that placeholders hold capacity
    where the real pods may run."""
    expressions, _ = split(node_expressions(job, role))
    selector: dict[str, str] = {}
    others: list[dict[str, Any]] = []
    for expression in expressions:
        key, values = expression["key"], expression["values"]
        if expression["operator"] == "In" and len(values) == 1 and key not in selector:
            selector[key] = values[0]
        else:
            others.append(expression)
    out: dict[str, Any] = {}
    if selector:
        out["nodeSelector"] = selector
    placement = job.driver_placement if role == "driver" else job.executor_placement
    if placement.tolerations:
        out["tolerations"] = placement.tolerations
    affinity: dict[str, Any] = {}
    if others:
        required = {"nodeSelectorTerms": [{"matchExpressions": others}]}
        affinity["nodeAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": required}
    if job.same_zone:
        affinity["podAffinity"] = split(same_zone_affinity(job))[0]
        out["labels"] = {APP_LABEL: job.app_name}
    if affinity:
        out["affinity"] = affinity
    return out
