"""`PlatformProfile`: the platform team's defaults and the guardrails each tenant stays inside."""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec.cluster import KarpenterSettings, RbacSubject, default_submitters
from airflow_eks_data.jobspec.cost import CostSettings
from airflow_eks_data.jobspec.emr_serverless import EmrServerlessSettings, TenantEmrServerless
from airflow_eks_data.jobspec.fields import MAX_SECONDS, DatasetUri, Labels, Memory, Seconds, StrictModel, StringMap
from airflow_eks_data.jobspec.names import DNS_LABEL, DNS_LABEL_RULE, DNS_SUBDOMAIN
from airflow_eks_data.jobspec.settings import Arch, Capacity, JobSettings, LocalStorageKind
from airflow_eks_data.targets import TARGETS, Target


class Toleration(StrictModel):
    key: str | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None


class RolePlacement(StrictModel):
    """Where one role's pods may run; rendered as required node affinity in the pod template."""

    capacity: Capacity | None = Field(None, description="`karpenter.sh/capacity-type` the pods require.")
    arch: Arch | None = Field(None, description="`kubernetes.io/arch` the pods require.")
    min_local_nvme_gb: int | None = Field(
        None, ge=1, description="Require `karpenter.k8s.aws/instance-local-nvme` greater than this (GB)."
    )
    node_pool: str | None = Field(None, description="Karpenter NodePool (`karpenter.sh/nodepool`) to use.")
    node_selector: StringMap = Field(default_factory=dict, description="Extra node labels the pods require.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Tolerations, merged by key and effect.")


class Placement(StrictModel):
    driver: RolePlacement = Field(default_factory=RolePlacement, description="Driver placement.")
    executor: RolePlacement = Field(default_factory=RolePlacement, description="Executor placement.")
    same_zone: bool = Field(
        True, description="Keep every pod of an application in one availability zone (no cross-AZ shuffle)."
    )
    zones: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z0-9]+)+[a-z]$")]] = Field(
        default_factory=list,
        description="Availability zones the profile's Karpenter NodePools launch nodes in (`platform render`); "
        "empty: any zone of the node class's subnets.",
    )


Role = Literal["driver", "executor"]


def _executor_only() -> list[Role]:
    return ["executor"]


class NvmeStorage(StrictModel):
    host_path: str = Field(description="Instance-store mount on the node (Karpenter RAID0), e.g. `/mnt/k8s-disks/0`.")
    mount_path: str = Field("/data1", description="Where the pods see it; used as `spark.local.dir`.")
    host_path_type: Literal["Directory", "DirectoryOrCreate"] = Field(
        "Directory", description="hostPath type; `Directory` fails fast on a node without the mount."
    )
    roles: list[Role] = Field(
        default_factory=_executor_only,
        description="Which pods mount it; give the driver NVMe placement too.",
    )


class EbsStorage(StrictModel):
    storage_class: str = Field("gp3", description="StorageClass of the on-demand PVC.")
    size: Memory = Field("100g", description="Size of each executor's volume.")
    mount_path: str = Field("/data1", description="Where the pods see it.")


class EphemeralStorage(StrictModel):
    request: str = Field(description="`ephemeral-storage` request of every container, e.g. `2Gi`.")
    limit: str = Field(description="`ephemeral-storage` limit of every container, e.g. `10Gi`.")


class LocalStorage(StrictModel):
    default: LocalStorageKind | None = Field(
        None, description="Kind used when the job does not choose; defaults to `nvme` when it is configured."
    )
    nvme: NvmeStorage | None = Field(None, description="hostPath volume `spark-local-dir-1` on instance store.")
    ebs: EbsStorage | None = Field(None, description="One on-demand PVC per executor.")
    ephemeral_storage: EphemeralStorage | None = Field(None, description="Container ephemeral-storage bounds.")


class TenantEmr(StrictModel):
    virtual_cluster_id: str = Field(description="EMR on EKS virtual cluster of the tenant's namespace.")
    execution_role_arn: str = Field(description="IAM role the job runs as.")


def _priority_class_name(value: str | None) -> str | None:
    if value is not None and (len(value) > 253 or not DNS_SUBDOMAIN.match(value)):
        raise ValueError("a PriorityClass name: a DNS subdomain (lowercase, '.', '-')")
    return value


class Pinned(StrictModel):
    """Values a tenant fixes for all its jobs: a job may repeat them, never change them."""

    labels: Labels = Field(default_factory=dict, description="Labels every pod carries with these values.")
    capacity: Capacity | None = Field(None, description="Executor capacity type; escalation does not change it.")
    priority_class: str | None = Field(None, description="PriorityClass of every driver and executor pod.")
    spark_conf: StringMap = Field(default_factory=dict, description="Spark keys with the tenant's values.")

    @field_validator("priority_class")
    @classmethod
    def _priority_class(cls, value: str | None) -> str | None:
        return _priority_class_name(value)


BatchSchedulerName = Literal["yunikorn", "volcano"]
_YUNIKORN_QUEUE = re.compile(r"^root(\.[A-Za-z0-9_:#/@-]{1,64})+$")
YUNIKORN_QUEUE_RULE = (
    "a YuniKorn queue path: 'root.' then one or more '.'-separated names of letters, digits and _-:#/@ "
    "(at most 64 each), e.g. root.spark.team-a"
)
VOLCANO_QUEUE_RULE = "a Volcano Queue name: " + DNS_LABEL_RULE + ", at most 63 characters"
YUNIKORN_ONLY = ("placeholder_timeout_seconds", "gang_style")


def queue_problem(scheduler: str, queue: str) -> str | None:
    """Why `queue` cannot be a queue of `scheduler`, or None. A YuniKorn queue is a full path from `root`
    (applications go to leaf queues); a Volcano queue is a cluster-scoped object whose name pods also
    carry as a label value."""
    if scheduler == "yunikorn":
        return None if _YUNIKORN_QUEUE.match(queue) else YUNIKORN_QUEUE_RULE
    return None if len(queue) <= 63 and DNS_LABEL.match(queue) else VOLCANO_QUEUE_RULE


def default_queue(scheduler: str, namespace: str) -> str:
    """The queue of a tenant that names none: `root.<namespace>` on YuniKorn, the namespace on Volcano."""
    return f"root.{namespace}" if scheduler == "yunikorn" else namespace


class BatchScheduler(StrictModel):
    """The batch scheduler that admits a tenant's applications, its queue, and whether each starts whole.

    Set in the profile, in a tenant, or both: a tenant fills what the profile leaves unset (typically the
    queue) and never changes what the profile set. A job cannot set any of it. Rendered for the Spark
    Operator and spark-submit; EMR on EKS and EMR Serverless ignore it (their service schedules).
    """

    name: BatchSchedulerName | None = Field(
        None, description="`yunikorn` or `volcano`: the scheduler of every driver and executor pod."
    )
    queue: str | None = Field(
        None,
        description="Queue the applications are admitted to. YuniKorn: a full path such as `root.spark.team-a`; "
        "Volcano: a Queue name. Default: `root.<tenant namespace>` on YuniKorn, the tenant namespace on Volcano.",
    )
    gang: bool | None = Field(
        None,
        description="Gang scheduling: the driver and the executors (their minimum count under dynamic "
        "allocation) start together or not at all, sized from the pods' real requests. Default false.",
    )
    priority_class: str | None = Field(
        None,
        description="PriorityClass the scheduler orders and preempts by, also set on every pod; must agree "
        "with the tenant's `pinned.priority_class` (which it defaults to).",
    )
    placeholder_timeout_seconds: int | None = Field(
        None,
        ge=1,
        le=MAX_SECONDS,
        description="YuniKorn gang: how long placeholders hold capacity for the gang (unset: YuniKorn's default).",
    )
    gang_style: Literal["Hard", "Soft"] | None = Field(
        None,
        description="YuniKorn gang: `Hard` fails the application when the gang times out, `Soft` falls back to "
        "scheduling pods one by one. Default `Hard`.",
    )

    @field_validator("priority_class")
    @classmethod
    def _priority_class(cls, value: str | None) -> str | None:
        return _priority_class_name(value)

    @model_validator(mode="after")
    def _one_layer(self) -> BatchScheduler:
        """What one layer gives must hold on its own; `layered_batch_scheduler` checks the layers together."""
        problem = batch_scheduler_problem(self.model_dump(exclude_none=True))
        if problem:
            raise ValueError(f"{problem[0]}: {problem[1]}")
        return self


def batch_scheduler_problem(values: dict[str, Any]) -> tuple[str, str] | None:
    """The field of one layer's or the merged batch scheduler's `values` (set fields only) that is wrong,
    and why."""
    name, queue = values.get("name"), values.get("queue")
    if queue is not None:
        if name is not None:
            problem = queue_problem(name, queue)
        elif queue_problem("yunikorn", queue) and queue_problem("volcano", queue):
            problem = f"{YUNIKORN_QUEUE_RULE}; or {VOLCANO_QUEUE_RULE}"
        else:
            problem = None
        if problem:
            return "queue", f"not {problem}"
    if name == "volcano":
        given = [field for field in YUNIKORN_ONLY if field in values]
        if given:
            return given[0], "YuniKorn only (a Volcano PodGroup has no such setting)"
    return None


Setter = Literal["profile", "tenant"]


def layered_batch_scheduler(
    profile: BatchScheduler | None, tenant: BatchScheduler | None
) -> tuple[dict[str, tuple[Any, Setter]], list[tuple[str, Any, Any]]]:
    """Each set field's value with the layer that set it, and the `(field, profile value, tenant value)`
    where a tenant tried to change what the profile set (a tenant repeating it changes nothing)."""
    values: dict[str, tuple[Any, Setter]] = {}
    conflicts: list[tuple[str, Any, Any]] = []
    layers: tuple[tuple[Setter, BatchScheduler | None], ...] = (("profile", profile), ("tenant", tenant))
    for layer, scheduler in layers:
        for field, value in (scheduler.model_dump(exclude_none=True) if scheduler else {}).items():
            if field in values and values[field][0] != value:
                conflicts.append((field, values[field][0], value))
            values.setdefault(field, (value, layer))
    return values, conflicts


def _tenant_batch_scheduler(tenant: Tenant, info: ValidationInfo) -> Tenant:
    """A tenant's batch scheduler over the profile's, checked when the profile loads (the profile's field
    is declared before `tenants`, so it is in `info.data`)."""
    profile: BatchScheduler | None = info.data.get("batch_scheduler")
    if profile is None and tenant.batch_scheduler is None:
        return tenant
    values, conflicts = layered_batch_scheduler(profile, tenant.batch_scheduler)
    owner = f"profile {info.data['name']!r}" if "name" in info.data else "the profile"
    problems = [
        f"{field} {theirs!r} differs from {ours!r} set by {owner}: a tenant fills only what the profile leaves unset"
        for field, ours, theirs in conflicts
    ]
    if "name" not in values:
        problems.append("name: required in the profile's or the tenant's batch_scheduler (yunikorn or volcano)")
    problem = batch_scheduler_problem({field: value for field, (value, _) in values.items()})
    if problem:
        field, why = problem
        problems.append(f"{field} {values[field][0]!r} (set by the {values[field][1]}): {why}")
    # Messages name the tenant's own field (`tenants.<name>.batch_scheduler` or `.pinned`).
    anchor = "batch_scheduler" if problems or tenant.batch_scheduler else "pinned"
    pinned, asked = tenant.pinned.priority_class, values.get("priority_class")
    if pinned and asked and asked[0] != pinned:
        problems.append(
            f"priority_class {asked[0]!r} (set by the {asked[1]}'s batch_scheduler) differs from the tenant's "
            f"pinned.priority_class {pinned!r}: every pod has one PriorityClass"
        )
    if problems:
        raise ValueError(f"{anchor}: " + "; ".join(problems))
    return tenant


class Tenant(JobSettings):
    """A team's namespace and identity, its caps, its data, and defaults of its own.

    `spark_conf` may also be given as `{allow: [globs], defaults: {key: value}}`: allow-list mode, where a
    job may set only the listed keys and the ones the profile lists as safe tuning (`safe_spark_conf`).
    """

    namespace: str = Field(description="Kubernetes namespace; jobs cannot choose another.")
    service_account: str = Field(description="Service account of driver and executors; jobs cannot choose another.")
    emr: TenantEmr | None = Field(None, description="EMR on EKS virtual cluster and execution role.")
    emr_serverless: TenantEmrServerless | None = Field(None, description="EMR Serverless application and role.")
    max_executors: int | None = Field(None, ge=1, description="Cap on executors (instances and dynamic maximum).")
    max_executor_memory: Memory | None = Field(None, description="Cap on one executor's memory.")
    max_driver_memory: Memory | None = Field(None, description="Cap on the driver's memory.")
    max_executor_cores: int | None = Field(None, ge=1, description="Cap on one executor pod's CPU.")
    max_local_storage: Memory | None = Field(
        None, description="Cap on each pod's ephemeral-storage limit and local volume size."
    )
    data_prefixes: list[DatasetUri] = Field(
        default_factory=list,
        description="URI prefixes the tenant's data and code live under (e.g. `s3://lake/datalake/`): inputs, "
        "outputs, the main file and dependencies outside them are refused. Empty: no restriction.",
    )
    allow_https: bool = Field(False, description="Main files and dependencies may be fetched over `https://`.")
    spark_conf_allow: list[str] | None = Field(
        None, description="Allow-list mode: the only Spark keys (globs) jobs may set, besides the profile's safe ones."
    )
    pinned: Pinned = Field(default_factory=Pinned, description="Values no job of the tenant can change.")
    batch_scheduler: BatchScheduler | None = Field(
        None,
        description="The tenant's part of batch scheduling, usually its queue: fills what the profile's "
        "`batch_scheduler` leaves unset, never changes it. A job cannot set it.",
    )
    allowed_images: list[str] = Field(
        default_factory=list, description="Image prefixes the tenant may use (empty: the profile's list)."
    )
    required_labels: list[str] = Field(default_factory=list, description="Label keys every job must carry.")
    locked_spark_conf: list[str] = Field(
        default_factory=list, description="More glob patterns of Spark keys jobs cannot set."
    )
    iam_role_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$",
        description="IAM role of the tenant's service account (IRSA: `platform render` annotates the service "
        "account with it; with `pod_identity`, the role of the EKS Pod Identity association).",
    )
    pod_identity: bool = Field(
        False,
        description="The service account gets its IAM role from an EKS Pod Identity association, not an IRSA "
        "annotation (`platform render` notes the association to create).",
    )
    max_applications: int | None = Field(
        None,
        ge=1,
        description="How many of the tenant's applications may run at their caps at once: sizes the namespace's "
        "ResourceQuota and queue (`platform render`; default 1) and caps its SparkApplications.",
    )

    @model_validator(mode="before")
    @classmethod
    def _allow_list_mode(cls, data: Any) -> Any:
        """`spark_conf: {allow: [...], defaults: {...}}`: a list value can't be a Spark property, so the
        shape is unambiguous."""
        conf = data.get("spark_conf") if isinstance(data, dict) else None
        if isinstance(conf, dict) and isinstance(conf.get("allow"), list):
            if "spark_conf_allow" in data:
                raise ValueError("spark_conf: give the allow-list once, as spark_conf.allow or spark_conf_allow")
            unknown = sorted(set(conf) - {"allow", "defaults"})
            if unknown:
                raise ValueError(f"spark_conf: with allow, the keys are allow and defaults (not {', '.join(unknown)})")
            data = {**data, "spark_conf_allow": conf["allow"], "spark_conf": conf.get("defaults")}
        return data

    @field_validator("namespace", "service_account")
    @classmethod
    def _dns(cls, value: str) -> str:
        if len(value) > 63 or not DNS_LABEL.match(value):
            raise ValueError(DNS_LABEL_RULE)
        return value


class EmrMonitoring(StrictModel):
    cloudwatch_log_group: str | None = Field(None, description="CloudWatch Logs group for driver and executors.")
    log_stream_prefix: str | None = Field(None, description="CloudWatch stream prefix.")
    s3_log_uri: str | None = Field(None, description="S3 URI the pods' logs are copied to.")
    persistent_app_ui: bool = Field(True, description="Keep the Spark UI available after the job ends.")
    container_log_rotation_size: str | None = Field(None, description="Rotate container logs at this size, e.g. `2GB`.")
    container_log_max_files: int | None = Field(None, ge=1, description="Rotated log files to keep.")
    managed_logs: bool | None = Field(
        None, description="Let EMR keep the job's logs (managed logs); unset: the virtual cluster's default."
    )
    managed_logs_kms_key_arn: str | None = Field(None, description="KMS key that encrypts the managed logs.")


TEMPLATE_FIELDS = (
    "entry_point",
    "arguments",
    "main_class",
    "spark_submit_parameters",
    "driver_pod_template",
    "executor_pod_template",
    "driver_cores",
    "driver_memory",
    "executor_cores",
    "executor_memory",
    "executor_instances",
    "job_name",
    "app_name",
    "tenant",
    "release_label",
    "execution_role_arn",
)
"""What a job template parameter's value may be made of (`EmrSettings.job_template_parameters`)."""


def _placeholders(value: str, allowed: tuple[str, ...]) -> str:
    """A `str.format` template naming only `allowed` fields: checked when the profile loads, not when a
    task formats it."""
    try:
        parsed = [(field, spec, conversion) for _, field, spec, conversion in string.Formatter().parse(value)]
    except ValueError as exc:
        raise ValueError(f"not a template: {exc}") from None
    for field, spec, conversion in parsed:
        if field is not None and (spec or conversion):
            raise ValueError(f"{{{field}}}: placeholders take no format spec or conversion (':', '!')")
    names = [field for field, _, _ in parsed if field is not None]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}: use {', '.join('{' + f + '}' for f in allowed)}")
    return value


TemplateParameterValue = Annotated[str, AfterValidator(lambda value: _placeholders(value, TEMPLATE_FIELDS))]
TemplateParameterName = Annotated[str, StringConstraints(pattern=r"^[.\-_#A-Za-z0-9]{1,512}$")]


class EmrSettings(StrictModel):
    release_label: str = Field("emr-7.5.0-latest", description="EMR release, e.g. `emr-7.5.0-latest`.")
    allowed_images: list[str] = Field(
        default_factory=list,
        description="Image prefixes of EMR custom images (built FROM the EMR base image of `release_label`). "
        "On emr_on_eks the job's image is used only under these: the profile's own image outside them runs as "
        "the release's image, a tenant's or job's is refused. Empty: nothing tells, so the image is used as is.",
    )
    pod_template_s3_prefix: str | None = Field(
        None,
        description="S3 prefix where driver and executor pod templates are uploaded (content-hashed keys).",
    )
    monitoring: EmrMonitoring = Field(default_factory=EmrMonitoring, description="Log and UI configuration.")
    tags: StringMap = Field(default_factory=dict, description="Tags on every job run.")
    job_template_id: str | None = Field(
        None,
        pattern=r"^[0-9a-z]{1,64}$",
        description="Start every run from this EMR on EKS job template: the template then holds the release, "
        "execution role, driver and configuration, and the request carries only `job_template_parameters`.",
    )
    job_template_parameters: dict[TemplateParameterName, TemplateParameterValue] = Field(
        default_factory=dict,
        max_length=100,
        description="Values of the template's parameters, made of the job's: `{entry_point}`, `{arguments}`, "
        "`{spark_submit_parameters}`, `{driver_pod_template}`, `{executor_memory}`, ... (see the EMR on EKS how-to).",
    )

    @model_validator(mode="after")
    def _parameters_need_a_template(self) -> EmrSettings:
        if self.job_template_parameters and not self.job_template_id:
            raise ValueError("job_template_parameters need a job_template_id")
        return self


class LineageSettings(StrictModel):
    inject_parent_job_info: bool | None = Field(
        None, description="Add `spark.openlineage.parent*` keys (None: the openlineage provider's setting)."
    )
    inject_transport_info: bool | None = Field(
        None, description="Add the transport keys (None: the openlineage provider's setting)."
    )


URL_FIELDS = ("namespace", "name", "app_id", "region")


UrlTemplate = Annotated[str, AfterValidator(lambda value: _placeholders(value, URL_FIELDS))]
"""Links are formatted after the submission, when a bad template could only break the task."""


class UiSettings(StrictModel):
    spark_ui_url: UrlTemplate | None = Field(
        None,
        description="Template of the live Spark UI, e.g. `https://spark.example.com/{namespace}/{name}`.",
    )
    history_server_url: UrlTemplate | None = Field(
        None,
        description="Template of the Spark History Server page, e.g. `https://shs.example.com/history/{app_id}`.",
    )
    emr_job_run_url: UrlTemplate | None = Field(
        None,
        description="Template of an EMR on EKS job run's page (`{region}`, `{namespace}`: the virtual cluster "
        "id, `{name}`: the job run id), e.g. the EMR console's job run view.",
    )


class PlatformProfile(JobSettings):
    """Defaults every job gets, the tenants that may use them, and the keys no job may change."""

    name: str = Field(description="Profile name; jobs and DAGs refer to it.")
    description: str | None = Field(None, description="What the profile is for.")
    backend: str = Field(
        Target.SPARK_OPERATOR,
        description=f"Backend used when the operator does not choose: {', '.join(TARGETS)} or a registered one.",
    )
    placement: Placement = Field(default_factory=Placement, description="Node placement of driver and executors.")
    local_storage: LocalStorage = Field(
        default_factory=LocalStorage,
        description="Shuffle storage: NVMe hostPath, EBS volumes, ephemeral-storage bounds.",
    )
    batch_scheduler: BatchScheduler | None = Field(
        None,
        description="YuniKorn or Volcano for every tenant's applications: queue, gang scheduling, PriorityClass "
        "(Spark Operator and spark-submit; EMR on EKS and EMR Serverless ignore it). Tenants fill what it leaves "
        "unset; a tenant value that differs from one set here is an error.",
    )
    # Declared after `batch_scheduler` and `name`: each tenant's check reads them (`_tenant_batch_scheduler`).
    tenants: dict[str, Annotated[Tenant, AfterValidator(_tenant_batch_scheduler)]] = Field(
        default_factory=dict, description="Tenants by name."
    )
    allowed_images: list[str] = Field(default_factory=list, description="Image prefixes any tenant may use.")
    locked_spark_conf: list[str] = Field(
        default_factory=list, description="Glob patterns of Spark keys jobs cannot set or override."
    )
    safe_spark_conf: list[str] = Field(
        default_factory=list,
        description="Spark keys (globs) the platform calls safe tuning: tenants in allow-list mode admit them too.",
    )
    safe_java_properties: list[str] = Field(
        default_factory=list,
        description="System properties (globs) a job may pass with `-D` in Java options, besides the built-in ones.",
    )
    time_to_live_seconds: int | None = Field(
        None,
        ge=1,
        le=2**63 - 1,  # the CRD's int64
        description="Delete finished SparkApplications after this long (Spark Operator backend).",
    )
    pending_explain_after: Seconds | None = Field(
        120,
        ge=1,
        description="Say in the task log (and the `startup.unschedulable` metric) why pods are still unscheduled "
        "after this long: no node, a quota, a queue (Spark Operator backend; null: never).",
    )
    fail_fast_on_unschedulable: bool = Field(
        False,
        description="End the wait at `pending_explain_after` instead of `startup_timeout`: `failed` when waiting "
        "cannot help (no NodePool matches), else `timed_out` (Airflow retries apply).",
    )
    local_master: str = Field("local[*]", description="`--master` of the local backend.")
    emr: EmrSettings = Field(default_factory=EmrSettings, description="EMR on EKS release, templates, monitoring.")
    emr_serverless: EmrServerlessSettings = Field(
        default_factory=EmrServerlessSettings, description="EMR Serverless release, retries, monitoring, disks, tags."
    )
    lineage: LineageSettings = Field(default_factory=LineageSettings, description="OpenLineage injection switches.")
    ui: UiSettings = Field(default_factory=UiSettings, description="Spark UI and History Server URL templates.")
    cost: CostSettings = Field(default_factory=CostSettings, description="Price table for per-run cost estimates.")
    karpenter: KarpenterSettings | None = Field(
        None, description="The EC2NodeClass of the profile's Karpenter NodePools (`platform render`)."
    )
    submitters: list[RbacSubject] = Field(
        default_factory=default_submitters,
        min_length=1,
        description="Who Airflow runs as in Kubernetes: the subjects `platform render` binds the submitter Role to "
        "(default: the group `airflow-spark-submitters`, which an EKS access entry maps Airflow's IAM role to).",
    )

    @field_validator("backend")
    @classmethod
    def _registered_backend(cls, value: str) -> str:
        from airflow_eks_data.backends.registry import backend_name, names

        try:
            return backend_name(value)
        except SpecError:
            raise ValueError(f"one of {', '.join(names())}") from None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if len(value) > 63 or not DNS_LABEL.match(value):
            raise ValueError(DNS_LABEL_RULE)
        return value
