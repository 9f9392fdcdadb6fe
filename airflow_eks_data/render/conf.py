"""The Spark properties every backend shares: the merged conf plus what typed fields and storage imply."""

from __future__ import annotations

from airflow_eks_data.errors import Problem, SpecError, format_path
from airflow_eks_data.jobspec.quantities import spark_memory
from airflow_eks_data.render import batch_scheduling
from airflow_eks_data.render.sourced import Sourced, src
from airflow_eks_data.resolve import ownership
from airflow_eks_data.resolve.ownership import Owner
from airflow_eks_data.resolve.resolved import BUILTIN, ResolvedJob

LOCAL_DIR_VOLUME = "spark-local-dir-1"


def spark_properties(job: ResolvedJob, resources: bool) -> dict[str, Sourced]:
    """Spark conf for the job. `resources` adds cores/memory/instances as properties (EMR, local); the
    Spark Operator has typed fields for those instead."""
    conf = {key: src(job, format_path(("spark_conf", key)), value) for key, value in job.spark_conf.items()}
    for key, value in job.hadoop_conf.items():
        conf[f"spark.hadoop.{key}"] = src(job, format_path(("hadoop_conf", key)), value)
    for name, value in job.env.items():
        origin = job.origin(format_path(("env", name)))
        conf[f"spark.kubernetes.driverEnv.{name}"] = Sourced(value, origin)
        conf[f"spark.executorEnv.{name}"] = Sourced(value, origin)
    if resources:
        conf.update(_resources(job))
    if job.dynamic_allocation and "spark.dynamicAllocation.shuffleTracking.enabled" not in conf:
        # Without an external shuffle service, dynamic allocation on Kubernetes needs shuffle tracking.
        conf["spark.dynamicAllocation.shuffleTracking.enabled"] = Sourced("true", BUILTIN)
    conf.update(local_storage_properties(job))
    _check_owners(conf)
    return conf


DEPENDENCY_OPTIONS = (
    ("--jars", "jars"),
    ("--py-files", "py_files"),
    ("--files", "files"),
    ("--packages", "packages"),
    ("--repositories", "repositories"),
)


def dependency_options(job: ResolvedJob) -> list[str]:
    """spark-submit's options for the job's dependencies. Each value passed the URI or Maven grammar, so
    none holds the comma these options split on, or starts with `-`."""
    parts: list[str] = []
    for option, field in DEPENDENCY_OPTIONS:
        values = getattr(job.deps, field)
        if values:
            parts += [option, ",".join(values)]
    return parts


def _check_owners(conf: dict[str, Sourced]) -> None:
    """Every renderer's last word on ownership: a property a job or tenant layer wrote must be one that
    layer owns, whatever path it took here. The guardrails refuse such keys first, with their rule; this
    holds even if a new path forgets to ask them."""
    problems = []
    for key, value in conf.items():
        layer = next((owner for owner in (Owner.JOB, Owner.TENANT) if value.origin.startswith(f"{owner.value}:")), None)
        if layer is None:
            continue
        env = next((key[len(p) :] for p in ownership.TYPED_PREFIXES if key.lower().startswith(p)), None)
        claim = ownership.env_claim(env) if env is not None else ownership.conf_claim(key)
        if claim.owner is Owner.PLATFORM or (layer is Owner.JOB and claim.owner is not Owner.JOB):
            problems.append(Problem(key, value.value, f"owner: {value.origin} may not set a {claim.owner.value} key"))
    if problems:
        raise SpecError(problems)


def _resources(job: ResolvedJob) -> dict[str, Sourced]:
    conf: dict[str, Sourced] = {}
    for role, res in (("driver", job.driver), ("executor", job.executor)):
        conf[f"spark.{role}.cores"] = src(job, f"{role}.cores", str(res.cores))
        conf[f"spark.{role}.memory"] = src(job, f"{role}.memory", res.memory)
        if res.memory_overhead:
            conf[f"spark.{role}.memoryOverhead"] = src(job, f"{role}.memory_overhead", res.memory_overhead)
    dyn = job.dynamic_allocation
    if dyn:
        conf["spark.dynamicAllocation.enabled"] = src(job, "dynamic_allocation.enabled", "true")
        conf["spark.dynamicAllocation.minExecutors"] = src(
            job, "dynamic_allocation.min_executors", str(dyn.min_executors)
        )
        conf["spark.dynamicAllocation.maxExecutors"] = src(
            job, "dynamic_allocation.max_executors", str(dyn.max_executors)
        )
        conf["spark.dynamicAllocation.initialExecutors"] = src(
            job,
            "executor.instances",
            str(min(max(job.executor_instances, dyn.min_executors), dyn.max_executors)),
        )
    else:
        conf["spark.executor.instances"] = src(job, "executor.instances", str(job.executor_instances))
    return conf


def batch_scheduler_properties(job: ResolvedJob) -> dict[str, Sourced]:
    """The batch scheduler as spark-submit takes it: `spark.kubernetes.scheduler.name` and each role's
    annotations and labels (`batch_scheduling`). A tenant may set its queue: these keys are added after
    the ownership check of `spark_properties`, which is about what layers write as Spark conf."""
    batch = job.batch_scheduler
    if batch is None:
        return {}
    conf = {"spark.kubernetes.scheduler.name": Sourced(batch.name, job.origin("batch_scheduler.name"))}
    labels = batch_scheduling.pod_labels(job)
    for role in batch_scheduling.ROLES:
        for key, value in batch_scheduling.pod_annotations(job, role).items():
            conf[f"spark.kubernetes.{role}.annotation.{key}"] = value
        for key, value in labels.items():
            conf[f"spark.kubernetes.{role}.label.{key}"] = value
    return conf


def local_storage_properties(job: ResolvedJob) -> dict[str, Sourced]:
    """Shuffle storage through Spark's own volume properties, which work with or without a webhook and
    which Spark's local-dir logic recognises by the `spark-local-dir-` name."""
    origin = job.origin("local_storage")
    conf: dict[str, Sourced] = {}
    if job.nvme:
        for role in job.nvme.roles:
            base = f"spark.kubernetes.{role}.volumes.hostPath.{LOCAL_DIR_VOLUME}"
            conf[f"{base}.options.path"] = Sourced(job.nvme.host_path, origin)
            conf[f"{base}.options.type"] = Sourced(job.nvme.host_path_type, origin)
            conf[f"{base}.mount.path"] = Sourced(job.nvme.mount_path, origin)
            conf[f"{base}.mount.readOnly"] = Sourced("false", origin)
        conf["spark.local.dir"] = Sourced(job.nvme.mount_path, origin)
    elif job.ebs:
        base = f"spark.kubernetes.executor.volumes.persistentVolumeClaim.{LOCAL_DIR_VOLUME}"
        conf[f"{base}.options.claimName"] = Sourced("OnDemand", origin)
        conf[f"{base}.options.storageClass"] = Sourced(job.ebs.storage_class, origin)
        conf[f"{base}.options.sizeLimit"] = Sourced(spark_memory(job.ebs.size), origin)
        conf[f"{base}.mount.path"] = Sourced(job.ebs.mount_path, origin)
        conf[f"{base}.mount.readOnly"] = Sourced("false", origin)
    return conf
