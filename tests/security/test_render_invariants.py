"""Property: whatever a job author writes, what the platform and the tenant own comes out as they set it.

Jobs are generated from `SparkJob`'s own JSON schema, with hostile strings (options, `-D` properties,
platform keys in any spelling, control characters, path tricks) in every string field and as map keys.
A job is either refused with `SpecError`, or its rendering for every backend keeps the tenant's
namespace and identity, the platform's image, pod templates and Spark keys exactly as a plain job with the
same author choices (main file, capacity, arch, local storage) gets them, and every pod request within
the tenant's caps. For the local backend, the real spark-submit parsers read the argv to the main
resource, class, arguments and conf the renderer meant.
"""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.jobspec.quantities import memory_kib
from airflow_eks_data.pipeline import Prepared, prepare
from airflow_eks_data.resolve import ownership
from airflow_eks_data.resolve.ownership import Owner
from tests.conftest import PROFILE_PATH
from tests.security.spark_submit_parser import SparkSubmitParser, spark_submit_parser_fixture  # noqa: F401

PROFILE = PlatformProfile.from_yaml(PROFILE_PATH)
SCHEMA = SparkJob.model_json_schema()
APP = "invariant-app"
TARGETS = ("spark_operator", "emr_on_eks", "emr_serverless", "local")

HOSTILE = [
    "--conf=spark.kubernetes.namespace=analytics",
    "--conf",
    "spark.kubernetes.namespace=analytics",
    "-Dspark.kubernetes.authenticate.driver.serviceAccountName=spark-analytics",
    "x --class org.apache.spark.repl.Main",
    "--master=k8s://https://attacker.example",
    "a,--jars=s3://evil/x.jar",
    "s3://example-artifacts/jobs/../../other/x.py",
    "spark-internal",
    "pyspark-shell-main",
    "line\nspark.kubernetes.namespace=analytics",
    "nul\x00byte",
    "\u202eevil",
    "{{ params.x }}",
    "{name:d}",
    "'; quoted \"",
    "",
    "x" * 300,
]
BENIGN: dict[str, list[str]] = {
    "name": ["compact-events", "a", "job-1"],
    "tenant": ["datalake", "analytics"],
    "main_application_file": [
        "s3://example-artifacts/jobs/compact_table.py",
        "s3://example-artifacts/analytics/job.py",
        "local:///opt/spark/work-dir/job.py",
        "s3a://example-artifacts/jars/a.jar",
    ],
    "main_class": ["com.example.Main", "com.example.Outer$Inner"],
    "memory": ["2g", "4096m", "30000Mi", "70g"],
    "memory_overhead": ["512m", "2g", "40g"],
    "image": ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark:3.5.1"],
    "spark_version": ["3.5.1"],
    "jars": ["s3://example-artifacts/jars/udf.jar"],
    "packages": ["org.example:lib:1.0"],
    "repositories": ["https://repo.example.com/maven2"],
    "inputs": ["s3://example-lake/analytics/raw/"],
    "outputs": ["s3://example-lake/analytics/out/"],
    "timeout": ["1h", "90s"],
}
CONF_KEYS = [
    "spark.sql.shuffle.partitions",
    "spark.sql.adaptive.enabled",
    "spark.sql.files.maxPartitionBytes",
    "spark.serializer",
    "spark.task.maxFailures",
    "spark.executor.extraJavaOptions",
    "spark.driver.extraJavaOptions",
    "spark.memory.offHeap.enabled",
    "spark.memory.offHeap.size",
    "spark.executor.memoryOverheadFactor",
    "spark.executor.pyspark.memory",
    "spark.kubernetes.namespace",
    "Spark.Kubernetes.Namespace",
    "spark.kubernetes.executor.podTemplateFile",
    "spark.kubernetes.driver.request.cores",
    "spark.yarn.executor.memoryOverhead",
    "spark.hadoop.fs.s3a.endpoint",
    "spark.hadoop.fs.s3a.bucket.lake.aws.credentials.provider",
    "spark.executorEnv.AWS_ROLE_ARN",
    "spark.jars",
    "spark.master",
    "spark.openlineage.transport.url",
]
CONF_VALUES = [
    "true",
    "200",
    "16g",
    "20",
    "512g",
    "-XX:+UseG1GC",
    "-Dspark.kubernetes.namespace=analytics",
    "-XX:OnOutOfMemoryError=/tmp/x",
]
SIZING: list[dict[str, str]] = [
    {},
    {"spark.memory.offHeap.enabled": "true", "spark.memory.offHeap.size": "60g"},
    {"spark.memory.offHeap.enabled": "true", "spark.memory.offHeap.size": "8g"},
    {"spark.executor.pyspark.memory": "60g"},
    {"spark.executor.pyspark.memory": "2048"},
    {"spark.executor.memoryOverheadFactor": "4"},
    {"spark.driver.memoryOverheadFactor": "0.2", "spark.executor.minMemoryOverhead": "30g"},
]
"""Sizing keys that add to a pod's request, in combinations that do and do not pass a cap."""
NAMES = ["APP_MODE", "AWS_ROLE_ARN", "JAVA_TOOL_OPTIONS", "team", "cost-center", "spark-role", "karpenter.sh/x"]


def mostly(benign: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly values a job could mean, so that jobs get past the grammar with hostile values elsewhere."""
    hostile = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
    return st.integers(0, 9).flatmap(lambda roll: hostile if roll < 2 else benign)


def strings(field: str) -> st.SearchStrategy[str]:
    return mostly(st.sampled_from(BENIGN.get(field, ["value"])))


LABELS = st.fixed_dictionaries(
    {"team": st.sampled_from(["data-platform", "analytics"]), "cost-center": st.just("cc-1")}
)


def from_schema(node: dict[str, Any], field: str) -> st.SearchStrategy[Any]:
    """A strategy for one JSON-schema node of the model (pydantic's own schema, `$defs` included)."""
    if "$ref" in node:
        return from_schema(SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]], field)
    if "anyOf" in node:
        return st.one_of([from_schema(option, field) for option in node["anyOf"]])
    if "enum" in node or "const" in node:
        return st.sampled_from(node.get("enum") or [node["const"]])
    kind = node.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(node.get("minimum", -5), min(node.get("maximum", 10**6), 10**6))
    if kind == "string":
        return strings(field)
    if kind == "array":
        return st.lists(from_schema(node["items"], field), max_size=3)
    if kind == "object" and "properties" in node:
        required = set(node.get("required", []))
        return st.fixed_dictionaries(
            {name: from_schema(sub, name) for name, sub in node["properties"].items() if name in required},
            optional={name: from_schema(sub, name) for name, sub in node["properties"].items() if name not in required},
        )
    if kind == "object":
        if field == "labels":
            return st.one_of(LABELS, LABELS, st.dictionaries(st.sampled_from(NAMES), strings(field), max_size=3))
        keys = mostly(st.sampled_from(CONF_KEYS if field.endswith("conf") else NAMES))
        pairs = st.dictionaries(keys, mostly(st.sampled_from(CONF_VALUES)), max_size=2)
        if field != "spark_conf":
            return pairs
        return st.builds(lambda sizing, more: {**sizing, **more}, st.sampled_from(SIZING), pairs)
    raise AssertionError(f"no strategy for {node}")


def _with_identity(job: dict[str, Any], arguments: list[str], conf: dict[str, str]) -> dict[str, Any]:
    """A tenant, its required labels, arguments and Spark conf when the draw left them out, so that most
    jobs reach the renderers with option-like text in the program's argv and keys of every owner."""
    return {
        **job,
        "tenant": job.get("tenant") or "datalake",
        "labels": job.get("labels") or {"team": "t", "cost-center": "c"},
        "arguments": job.get("arguments") or arguments,
        "spark_conf": job.get("spark_conf") or conf,
    }


JOBS = st.builds(
    _with_identity,
    from_schema(SCHEMA, "job"),
    st.lists(st.sampled_from(["--table", *HOSTILE]), max_size=5),
    from_schema(SCHEMA["properties"]["spark_conf"]["anyOf"][0], "spark_conf"),
)


def baseline(job: SparkJob, target: str) -> Prepared:
    """A plain job with the same author choices: what the platform renders for it is the reference."""
    keep = ("name", "tenant", "type", "main_application_file", "main_class", "capacity", "arch", "local_storage")
    data = {key: getattr(job, key) for key in keep if getattr(job, key) is not None}
    tenant = PROFILE.tenants[job.tenant or "datalake"]
    data["labels"] = {**{key: "x" for key in tenant.required_labels}, **tenant.pinned.labels}
    return prepare(data, PROFILE, target=target, app_name=APP)


# The keys whose values decide where and as whom a pod runs, written here independently of
# `ownership`, so that a mistake there shows as a difference from the plain job, not as agreement.
PLATFORM_PREFIXES = (
    "spark.kubernetes.",
    "spark.emr-serverless.",
    "spark.master",
    "spark.submit.",
    "spark.app.",
    "spark.decommission.",
    "spark.storage.decommission.",
    "spark.executor.decommission.",
    "spark.authenticate",
    "spark.ssl.",
    "spark.openlineage.",
    "spark.extralisteners",
    "spark.plugins",
    "spark.eventlog.",
    "spark.executorenv.aws_",
    "spark.hadoop.fs.s3a.endpoint",
    "spark.hadoop.fs.s3a.aws.credentials.provider",
)


DRIVER_ENV = ("spark.kubernetes.driverEnv.", "spark.emr-serverless.driverEnv.")


def platform_conf(conf: dict[str, str]) -> dict[str, str]:
    """The platform's Spark keys of a rendered conf (pod template files are named by content, and the
    env a job may set renders under `spark.kubernetes.driverEnv.`, on EMR Serverless under
    `spark.emr-serverless.driverEnv.`)."""
    return {
        key.lower(): value
        for key, value in conf.items()
        if key.lower().startswith(PLATFORM_PREFIXES)
        and not key.endswith("podTemplateFile")
        and not any(key.startswith(env) and not key[len(env) :].upper().startswith("AWS_") for env in DRIVER_ENV)
    }


def platform_pod(template: dict[str, Any]) -> dict[str, Any]:
    """A pod template without the job's own labels."""
    spec = template["spec"]
    labels = {
        k: v for k, v in template["metadata"]["labels"].items() if ownership.label_claim(k).owner is not Owner.JOB
    }
    return {"labels": labels, "spec": spec}


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _bytes(text: str, default_unit: str) -> int:
    """Spark's size grammar, written again here so that the caps are checked against a second reading."""
    number = text.strip().lower().rstrip("ib").rstrip("b") if text.strip()[-1:].isalpha() else text.strip()
    unit = number[-1] if number[-1:].isalpha() else default_unit
    return int(number.rstrip("kmgt")) * _UNITS[unit]


def spark_pod_mib(role: str, cores: int, memory: str, overhead: str | None, conf: dict[str, str], non_jvm: bool) -> int:
    """A pod's memory as Spark 3.5's BasicDriver/ExecutorFeatureStep add it up, in MiB."""
    heap = _bytes(memory, "m") >> 20
    if overhead:
        extra = _bytes(overhead, "m") >> 20
    else:
        factor = conf.get(f"spark.{role}.memoryOverheadFactor", conf.get("spark.kubernetes.memoryOverheadFactor"))
        minimum = _bytes(conf.get(f"spark.{role}.minMemoryOverhead", "384m"), "m") >> 20
        extra = max(int(float(factor or (0.4 if non_jvm else 0.1)) * heap), minimum)
    if role == "executor" and conf.get("spark.memory.offHeap.enabled") == "true":
        extra += _bytes(conf.get("spark.memory.offHeap.size", "0"), "b") >> 20
    if role == "executor" and "spark.executor.pyspark.memory" in conf:
        extra += _bytes(conf["spark.executor.pyspark.memory"], "m") >> 20
    return heap + extra


def check_caps(prepared: Prepared) -> None:
    job, tenant = prepared.job, prepared.job.tenant
    conf = {**job.spark_conf, **{f"spark.hadoop.{k}": v for k, v in job.hadoop_conf.items()}}
    non_jvm = job.type in ("Python", "R")
    for role, cap in (("executor", tenant.max_executor_memory), ("driver", tenant.max_driver_memory)):
        res = job.executor if role == "executor" else job.driver
        pod = spark_pod_mib(role, res.cores, res.memory, res.memory_overhead, conf, non_jvm)
        assert cap is None or pod * 1024 <= memory_kib(cap), (role, pod, cap)
    if tenant.max_executor_cores:
        assert job.executor.cores <= tenant.max_executor_cores
    if tenant.max_executors:
        assert job.executor_instances <= tenant.max_executors
        assert not job.dynamic_allocation or job.dynamic_allocation.max_executors <= tenant.max_executors


def check_spark_operator(prepared: Prepared, base: Prepared) -> None:
    doc, ref = prepared.document, base.document
    assert doc["metadata"]["namespace"] == ref["metadata"]["namespace"] == prepared.job.tenant.namespace
    allowed = prepared.job.tenant.allowed_images or PROFILE.allowed_images
    assert doc["spec"]["image"] == prepared.job.image and prepared.job.image.startswith(tuple(allowed))
    for role in ("driver", "executor"):
        assert doc["spec"][role]["serviceAccount"] == prepared.job.tenant.service_account
        assert platform_pod(doc["spec"][role]["template"]) == platform_pod(ref["spec"][role]["template"])
    assert platform_conf(doc["spec"]["sparkConf"]) == platform_conf(ref["spec"]["sparkConf"])


SUBMIT_OPTIONS = {"--class", "--conf", "--jars", "--py-files", "--files", "--packages", "--repositories"}


def emr_conf(request: dict[str, Any], driver: dict[str, Any]) -> dict[str, str]:
    """Every Spark property an EMR request carries: spark-defaults, and the `--conf` that overflowed
    (the only option besides the class and dependencies a job's text may reach)."""
    [defaults] = request["configurationOverrides"]["applicationConfiguration"]
    tokens = shlex.split(driver.get("sparkSubmitParameters", ""))
    assert set(tokens[::2]) <= SUBMIT_OPTIONS
    overflow = dict(
        value.split("=", 1) for option, value in zip(tokens[::2], tokens[1::2], strict=True) if option == "--conf"
    )
    return {**defaults["properties"], **overflow}


def check_emr(prepared: Prepared, base: Prepared) -> None:
    request, ref = prepared.document["request"], base.document["request"]
    for key in ("virtualClusterId", "executionRoleArn", "releaseLabel"):
        assert request[key] == ref[key]
    driver, ref_driver = request["jobDriver"]["sparkSubmitJobDriver"], ref["jobDriver"]["sparkSubmitJobDriver"]
    assert platform_conf(emr_conf(request, driver)) == platform_conf(emr_conf(ref, ref_driver))
    pods = sorted(map(platform_pod, prepared.document["podTemplates"].values()), key=repr)
    assert pods == sorted(map(platform_pod, base.document["podTemplates"].values()), key=repr)
    assert driver["entryPoint"] == prepared.job.main_application_file


def check_emr_serverless(prepared: Prepared, base: Prepared) -> None:
    request, ref = prepared.document["request"], base.document["request"]
    tenant = prepared.job.tenant.emr_serverless
    assert tenant is not None
    assert (request["applicationId"], request["executionRoleArn"]) == (tenant.application_id, tenant.execution_role_arn)
    for key in ("applicationId", "executionRoleArn", "retryPolicy"):
        assert request.get(key) == ref.get(key)
    overrides, ref_overrides = request["configurationOverrides"], ref["configurationOverrides"]
    assert overrides["monitoringConfiguration"] == ref_overrides["monitoringConfiguration"]
    driver, ref_driver = request["jobDriver"]["sparkSubmit"], ref["jobDriver"]["sparkSubmit"]
    conf = emr_conf(request, driver)
    assert platform_conf(conf) == platform_conf(emr_conf(ref, ref_driver))
    # The service allocates dynamically unless told not to: a fixed count must turn it off to hold the cap.
    assert conf["spark.dynamicAllocation.enabled"] == ("true" if prepared.job.dynamic_allocation else "false")
    platform_tags = {**PROFILE.emr_serverless.tags, "airflow-eks-data/tenant": prepared.job.tenant_name}
    assert {key: request["tags"].get(key) for key in platform_tags} == platform_tags
    assert driver["entryPoint"] == prepared.job.main_application_file


OPTION_KEYS = {"spark.master", "spark.app.name", "spark.submit.deployMode", "spark.submit.pyFiles", "spark.jars"}
OPTION_KEYS |= {"spark.files", "spark.jars.packages", "spark.jars.repositories"}
"""Properties spark-submit sets from its own options (`--master`, `--name`, `--jars`, ...)."""


def conf_options(argv: list[str], arguments: list[str]) -> dict[str, str]:
    """The `--conf key=value` pairs the renderer put before the main file."""
    options = argv[: len(argv) - len(arguments) - 1]
    return dict(options[i + 1].split("=", 1) for i, arg in enumerate(options[:-1]) if arg == "--conf")


def check_local(prepared: Prepared, base: Prepared, parser: SparkSubmitParser) -> None:
    argv, job = prepared.document["argv"], prepared.job
    parsed = parser.parse(argv)
    assert parsed.ok, parsed.error
    assert parsed.main_class == job.main_class
    assert parsed.child_args == job.arguments
    assert parsed.master == PROFILE.local_master
    main = job.main_application_file.split("://")[-1].lstrip("/")
    assert parsed.primary_resource is not None and unquote(parsed.primary_resource).endswith(main)
    meant = conf_options(argv, job.arguments)
    assert {key: parsed.spark_properties.get(key) for key in meant} == meant
    assert platform_conf(meant) == platform_conf(conf_options(base.document["argv"], base.job.arguments))
    extra = set(platform_conf(parsed.spark_properties)) - {key.lower() for key in (*meant, *OPTION_KEYS)}
    assert not extra, f"spark-submit read platform keys the renderer did not write: {extra}"


@settings(max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(data=JOBS)
def test_what_the_platform_owns_survives_any_job(data: dict[str, Any], spark_submit_parser: SparkSubmitParser) -> None:
    try:
        job = SparkJob.from_dict(yaml.safe_load(yaml.safe_dump(data, allow_unicode=True)))
    except (SpecError, yaml.YAMLError):
        return
    for target in TARGETS:
        try:
            prepared = prepare(job, PROFILE, target=target, app_name=APP)
        except SpecError:
            continue
        base = baseline(job, target)
        assert prepared.job.namespace == prepared.job.tenant.namespace
        assert prepared.job.service_account == prepared.job.tenant.service_account
        check_caps(prepared)
        if target == "spark_operator":
            check_spark_operator(prepared, base)
        elif target == "emr_on_eks":
            check_emr(prepared, base)
        elif target == "emr_serverless":
            check_emr_serverless(prepared, base)
        else:
            check_local(prepared, base, spark_submit_parser)


def test_some_generated_jobs_render() -> None:
    """The property means little if every generated job is refused: count the ones that render."""
    from hypothesis import find

    found = find(JOBS, _renders, settings=settings(max_examples=2000, derandomize=True, database=None))
    assert found


def _renders(data: dict[str, Any]) -> bool:
    try:
        prepare(SparkJob.from_dict(data), PROFILE, target="local", app_name=APP)
    except SpecError:
        return False
    return True


@pytest.mark.parametrize("target", TARGETS)
def test_a_hostile_job_is_refused_on_every_backend(target: str) -> None:
    job = {"name": "a", "tenant": "datalake", "main_application_file": "--conf=spark.kubernetes.namespace=analytics"}
    with pytest.raises(SpecError, match="must not start with '-'"):
        prepare(job, PROFILE, target=target)
