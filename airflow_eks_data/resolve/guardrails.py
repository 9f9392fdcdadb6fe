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

# Keys only the platform sets: identity, placement and images go through typed, checked fields instead.
PLATFORM_KEYS = (
    "spark.master",
    "spark.submit.deploymode",
    "spark.kubernetes.namespace",
    "spark.kubernetes.authenticate.*",
    "spark.kubernetes.*podtemplatefile",
    "spark.kubernetes.*podtemplatecontainername",
    "spark.kubernetes.container.image*",
    "spark.kubernetes.*.container.image*",
    "spark.kubernetes.*volumes.*",
    "spark.kubernetes.*node.selector.*",
    "spark.kubernetes.*.label.*",
    "spark.kubernetes.driver.pod.name",
    "spark.kubernetes.executor.podnameprefix",
    "spark.kubernetes.*.secrets.*",
    "spark.kubernetes.*.secretkeyref.*",
    "spark.kubernetes.*.serviceaccountname",
    "spark.kubernetes.*.scheduler.name",
)

# Keys a typed field sets; accepting them in spark_conf would bypass the caps.
TYPED_KEYS = {
    "spark.driver.cores": "driver.cores",
    "spark.driver.memory": "driver.memory",
    "spark.driver.memoryoverhead": "driver.memory_overhead",
    "spark.executor.cores": "executor.cores",
    "spark.executor.memory": "executor.memory",
    "spark.executor.memoryoverhead": "executor.memory_overhead",
    "spark.executor.instances": "executor.instances",
    "spark.dynamicallocation.enabled": "dynamic_allocation.enabled",
    "spark.dynamicallocation.minexecutors": "dynamic_allocation.min_executors",
    "spark.dynamicallocation.maxexecutors": "dynamic_allocation.max_executors",
    "spark.dynamicallocation.initialexecutors": "executor.instances",
}

_CONF_KEY = re.compile(r"^[A-Za-z0-9_.\-/*:\[\]@]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def conf_key_problems(layer: str, field: str, conf: Mapping[str, str], locked: Iterable[str]) -> list[Problem]:
    """Keys of one layer's spark_conf/hadoop_conf that are malformed, platform-only, typed or locked."""
    problems: list[Problem] = []
    prefix = "spark.hadoop." if field == "hadoop_conf" else ""
    patterns = [p.strip().lower() for p in locked]
    for key in conf:
        path = format_path((field, key))
        if not _CONF_KEY.match(key):
            problems.append(Problem(path, key, "conf-key: keys are non-empty, without spaces or quotes"))
            continue
        norm = prefix + key.lower()
        if field == "spark_conf" and norm in TYPED_KEYS:
            problems.append(Problem(path, conf[key], f"typed-field: set {TYPED_KEYS[norm]} instead"))
        elif any(fnmatchcase(norm, p) for p in PLATFORM_KEYS):
            problems.append(Problem(path, conf[key], f"platform-key: only the platform sets this ({layer} may not)"))
        else:
            hit = next((p for p in patterns if fnmatchcase(norm, p)), None)
            if hit:
                problems.append(Problem(path, conf[key], f"locked-key: locked by the profile ({hit})"))
    return problems


def env_problems(env: Mapping[str, str]) -> list[Problem]:
    return [
        Problem(format_path(("env", name)), name, "env-name: letters, digits and '_', not starting with a digit")
        for name in env
        if not _ENV_NAME.match(name)
    ]


def image_problems(image: str | None, profile: PlatformProfile, tenant: Tenant) -> list[Problem]:
    if not image:
        return [Problem("image", image, "required: set image in the job or the profile")]
    allowed = tenant.allowed_images or profile.allowed_images
    if allowed and not is_templated(image) and not any(image.startswith(prefix) for prefix in allowed):
        return [Problem("image", image, f"allowed-image: must start with one of {', '.join(allowed)}")]
    return []


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
        ("driver.memory", driver.get("memory"), tenant.max_driver_memory),
    ):
        if limit is not None and value is not None and memory_kib(value) > memory_kib(limit):
            problems.append(Problem(path, value, f"max-memory: tenant allows at most {limit}"))
    cores_cap = tenant.max_executor_cores
    if cores_cap is not None and executor.get("cores", 0) > cores_cap:
        problems.append(Problem("executor.cores", executor["cores"], f"max-cores: tenant allows at most {cores_cap}"))
    return problems


def label_problems(labels: Mapping[str, str], required: Iterable[str]) -> list[Problem]:
    return [
        Problem(format_path(("labels", key)), labels.get(key), "required-label: the tenant requires this label")
        for key in required
        if not labels.get(key)
    ]
