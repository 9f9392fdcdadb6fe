"""The rules a tenant's job must stay inside. Each check returns problems naming its rule."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from airflow_eks_data.errors import Problem, format_path
from airflow_eks_data.spec.names import is_templated
from airflow_eks_data.spec.profile import PlatformProfile, Tenant
from airflow_eks_data.spec.quantities import memory_kib

# Keys only the platform sets: identity, placement, images and the pod itself go through typed, checked
# fields instead. Compared lower-case, as globs.
PLATFORM_KEYS = (
    "spark.master",
    "spark.submit.deploymode",
    "spark.kubernetes.namespace",
    "spark.kubernetes.context",
    "spark.kubernetes.driver.master",  # the API server the driver sends its token to
    "spark.kubernetes.authenticate.*",
    "spark.kubernetes.*podtemplatefile",
    "spark.kubernetes.*podtemplatecontainername",
    "spark.kubernetes.*featuresteps",  # classes that rewrite the pod spec (privileged, hostNetwork, ...)
    "spark.kubernetes.container.image*",
    "spark.kubernetes.*.container.image*",
    "spark.kubernetes.*volumes.*",
    "spark.kubernetes.*node.selector.*",
    "spark.kubernetes.*.label.*",
    "spark.kubernetes.*.annotation.*",  # e.g. kube2iam's iam.amazonaws.com/role picks the pod's IAM role
    "spark.kubernetes.driver.pod.name",
    "spark.kubernetes.executor.podnameprefix",
    "spark.kubernetes.*.secrets.*",
    "spark.kubernetes.*.secretkeyref.*",
    "spark.kubernetes.*.serviceaccountname",
    "spark.kubernetes.*scheduler.name",
    "spark.kubernetes.hadoop.*",  # a ConfigMap as HADOOP_CONF_DIR would override locked Hadoop keys
    "spark.kubernetes.kerberos.*",
    "spark.driver.resource.*",  # GPUs and other extended resources: no tenant cap covers them
    "spark.executor.resource.*",
    "spark.executor.pyspark.memory",  # added to the pod's memory outside the memory cap
)

# Keys a typed field sets; accepting them in spark_conf would bypass the caps. Spark's own alternative
# names (`spark.yarn.*`) and the pod-level requests and factors count as the same setting.
TYPED_KEYS = {
    "spark.driver.cores": "driver.cores",
    "spark.driver.memory": "driver.memory",
    "spark.driver.memoryoverhead": "driver.memory_overhead",
    "spark.yarn.driver.memoryoverhead": "driver.memory_overhead",
    "spark.driver.memoryoverheadfactor": "driver.memory_overhead",
    "spark.kubernetes.driver.request.cores": "driver.cores",
    "spark.kubernetes.driver.limit.cores": "driver.cores",
    "spark.executor.cores": "executor.cores",
    "spark.executor.memory": "executor.memory",
    "spark.executor.memoryoverhead": "executor.memory_overhead",
    "spark.yarn.executor.memoryoverhead": "executor.memory_overhead",
    "spark.executor.memoryoverheadfactor": "executor.memory_overhead",
    "spark.kubernetes.memoryoverheadfactor": "executor.memory_overhead",
    "spark.kubernetes.executor.request.cores": "executor.cores",
    "spark.kubernetes.executor.limit.cores": "executor.cores",
    "spark.executor.instances": "executor.instances",
    "spark.dynamicallocation.enabled": "dynamic_allocation.enabled",
    "spark.dynamicallocation.minexecutors": "dynamic_allocation.min_executors",
    "spark.dynamicallocation.maxexecutors": "dynamic_allocation.max_executors",
    "spark.dynamicallocation.initialexecutors": "executor.instances",
}
# Environment variables through spark_conf would skip the env rules below.
TYPED_PREFIXES = {"spark.kubernetes.driverenv.": "env", "spark.executorenv.": "env"}

# Keys whose value is a JVM command line: `-Dspark.x=y` there sets a Spark key no rule has seen.
JAVA_OPTION_KEYS = {
    "spark.driver.extrajavaoptions",
    "spark.executor.extrajavaoptions",
    "spark.driver.defaultjavaoptions",
    "spark.executor.defaultjavaoptions",
}
JAVA_OPTION_ENV = {"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"}
_SPARK_PROPERTY = re.compile(r"(?i)-D\s*[\"']?\s*spark\.")

# Environment variables that pick the pod's identity, the API server or files that configure Spark,
# Hadoop or AWS, and the variables Spark's own image entrypoint reads to launch the JVMs.
PLATFORM_ENV = (
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_*",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "KUBECONFIG",
    "KUBERNETES_SERVICE_*",
    "SPARK_CONF_DIR",
    "HADOOP_CONF_DIR",
    "YARN_CONF_DIR",
    "HADOOP_USER_NAME",
    "HADOOP_TOKEN_FILE_LOCATION",
    "SPARK_USER",
    "SPARK_JAVA_OPT_*",
    "SPARK_DRIVER_*",
    "SPARK_EXECUTOR_*",
    "SPARK_APPLICATION_ID",
    "SPARK_CLASSPATH",
    "SPARK_EXTRA_CLASSPATH",
    "SPARK_DIST_CLASSPATH",
    "SPARK_MOUNTED_*",
)

# Label keys that Kubernetes, Karpenter, EKS, Spark, the Spark Operator or this package give meaning to.
RESERVED_LABEL_PREFIXES = (
    "kubernetes.io/",
    "k8s.io/",
    "node.kubernetes.io/",
    "topology.kubernetes.io/",
    "node-role.kubernetes.io/",
    "pod-security.kubernetes.io/",
    "sparkoperator.k8s.io/",
    "karpenter.sh/",
    "karpenter.k8s.aws/",
    "eks.amazonaws.com/",
    "airflow-eks-data/",
)
RESERVED_LABELS = {"spark-role", "spark-app-selector", "spark-app-name", "spark-exec-id", "spark-version"}

_S3A = "spark.hadoop.fs.s3a."
_S3A_BUCKET = _S3A + "bucket."

_CONF_KEY = re.compile(r"^[A-Za-z0-9_.\-/*:\[\]@]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def conf_key_problems(layer: str, field: str, conf: Mapping[str, str], locked: Iterable[str]) -> list[Problem]:
    """Keys of one layer's spark_conf/hadoop_conf that are malformed, platform-only, typed or locked, and
    JVM options that would set Spark keys past these checks."""
    problems: list[Problem] = []
    prefix = "spark.hadoop." if field == "hadoop_conf" else ""
    patterns = [p.strip().lower() for p in locked]
    for key in conf:
        path = format_path((field, key))
        if not _CONF_KEY.match(key):
            problems.append(Problem(path, key, "conf-key: keys are non-empty, without spaces or quotes"))
            continue
        norm = prefix + key.lower()
        names = {norm, *_s3a_bucket_forms(norm)}
        typed = next(filter(None, (TYPED_KEYS.get(n) or _typed_prefix(n) for n in names)), None)
        if field == "hadoop_conf" and key.lower().startswith("spark."):
            problems.append(Problem(path, key, "hadoop-key: Hadoop keys do not start with 'spark.' (use spark_conf)"))
        elif field == "spark_conf" and typed:
            problems.append(Problem(path, conf[key], f"typed-field: set {typed} instead"))
        elif any(fnmatchcase(n, p) for n in names for p in PLATFORM_KEYS):
            problems.append(Problem(path, conf[key], f"platform-key: only the platform sets this ({layer} may not)"))
        elif hit := next((p for p in patterns for n in names if fnmatchcase(n, p)), None):
            problems.append(Problem(path, conf[key], f"locked-key: locked by the profile ({hit})"))
        elif norm in JAVA_OPTION_KEYS:
            problems += _java_option_problems(path, conf[key])
    return problems


def _s3a_bucket_forms(norm: str) -> list[str]:
    """The keys a per-bucket S3A key stands for: S3A reads `fs.s3a.bucket.<bucket>.<option>` as
    `fs.s3a.<option>` for that bucket, and bucket names may hold dots, so every split is a candidate."""
    if not norm.startswith(_S3A_BUCKET):
        return []
    parts = norm[len(_S3A_BUCKET) :].split(".")
    return [_S3A + ".".join(parts[index:]) for index in range(1, len(parts))]


def _typed_prefix(norm: str) -> str | None:
    return next((field for prefix, field in TYPED_PREFIXES.items() if norm.startswith(prefix)), None)


def _java_option_problems(path: str, value: str) -> list[Problem]:
    if _SPARK_PROPERTY.search(value):
        return [Problem(path, value, "java-options: Spark keys go in spark_conf, where the guardrails see them")]
    return []


def env_problems(env: Mapping[str, str]) -> list[Problem]:
    """Malformed names, variables only the platform sets, and JVM options that would set Spark keys."""
    problems: list[Problem] = []
    for name, value in env.items():
        path = format_path(("env", name))
        if not _ENV_NAME.match(name):
            problems.append(Problem(path, name, "env-name: letters, digits and '_', not starting with a digit"))
        elif any(fnmatchcase(name.upper(), pattern) for pattern in PLATFORM_ENV):
            problems.append(
                Problem(path, name, "platform-env: identity and launch settings come from the platform, not env")
            )
        elif name.upper() in JAVA_OPTION_ENV:
            problems += _java_option_problems(path, value)
    return problems


def image_problems(image: str | None, profile: PlatformProfile, tenant: Tenant) -> list[Problem]:
    if not image:
        return [Problem("image", image, "required: set image in the job or the profile")]
    allowed = tenant.allowed_images or profile.allowed_images
    if allowed and not any(_image_allowed(image, prefix) for prefix in allowed):
        return [Problem("image", image, f"allowed-image: must start with one of {', '.join(allowed)}")]
    return []


def _image_allowed(image: str, prefix: str) -> bool:
    """`image` is under `prefix`, where a prefix without a trailing `/` still ends at a name boundary
    (`registry.example` does not allow `registry.example.attacker.io/x`). A templated image, checked
    again once rendered, passes here only if its literal start could lead to an allowed image."""
    if is_templated(image):
        literal = image[: image.index("{{")]
        return literal.startswith(prefix) or prefix.startswith(literal)
    if not image.startswith(prefix):
        return False
    return prefix.endswith(("/", ":", "@")) or image[len(prefix) : len(prefix) + 1] in ("", "/", ":", "@")


def cap_problems(merged: Mapping[str, Any], dynamic_max: int | None, tenant: Tenant) -> list[Problem]:
    """Executors, memory and cores against the tenant's caps."""
    problems: list[Problem] = []
    executor = merged.get("executor", {})
    driver = merged.get("driver", {})
    cap = tenant.max_executors
    if cap is not None:
        for path, value in (
            ("executor.instances", executor.get("instances")),
            ("dynamic_allocation.max_executors", dynamic_max),
        ):
            if value is not None and value > cap:
                problems.append(Problem(path, value, f"max-executors: tenant allows at most {cap}"))
    for path, value, limit in (
        ("executor.memory", executor.get("memory"), tenant.max_executor_memory),
        ("executor.memory_overhead", executor.get("memory_overhead"), tenant.max_executor_memory),
        ("driver.memory", driver.get("memory"), tenant.max_driver_memory),
        ("driver.memory_overhead", driver.get("memory_overhead"), tenant.max_driver_memory),
    ):
        if limit is not None and value is not None and memory_kib(value) > memory_kib(limit):
            problems.append(Problem(path, value, f"max-memory: tenant allows at most {limit}"))
    cores_cap = tenant.max_executor_cores
    if cores_cap is not None and executor.get("cores", 0) > cores_cap:
        problems.append(Problem("executor.cores", executor["cores"], f"max-cores: tenant allows at most {cores_cap}"))
    return problems


def label_problems(labels: Mapping[str, str], required: Iterable[str]) -> list[Problem]:
    """Required labels that are missing or empty, and keys that others give meaning to."""
    problems = [
        Problem(format_path(("labels", key)), labels.get(key), "required-label: the tenant requires this label")
        for key in required
        if not labels.get(key)
    ]
    for key, value in labels.items():
        lowered = key.lower()
        if lowered in RESERVED_LABELS or lowered.startswith(RESERVED_LABEL_PREFIXES):
            problems.append(
                Problem(format_path(("labels", key)), value, "reserved-label: set by Kubernetes, Spark or the platform")
            )
    return problems
