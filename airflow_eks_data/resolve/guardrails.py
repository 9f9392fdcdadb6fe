"""The rules a tenant's job must stay inside. Each check returns problems naming its rule.

Who owns a key is `ownership`'s to say; these checks apply its answers to each layer's values, and
check what the pods really request against the tenant's caps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_eks_data.errors import Problem, format_path
from airflow_eks_data.jobspec.grammar import uri_scheme
from airflow_eks_data.jobspec.job import Deps, SparkJob
from airflow_eks_data.jobspec.names import is_templated
from airflow_eks_data.jobspec.profile import PlatformProfile, Tenant
from airflow_eks_data.jobspec.quantities import memory_kib
from airflow_eks_data.resolve import ownership
from airflow_eks_data.resolve.ownership import Claim, Owner
from airflow_eks_data.resolve.pod_requests import PodRequest
from airflow_eks_data.resolve.resolved import ResolvedJob

_CONF_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-/*:\[\]@]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def conf_problems(
    field: str,
    conf: Mapping[str, str],
    owner: Owner,
    locked: Iterable[tuple[str, Owner]] = (),
    allow: Iterable[str] | None = None,
    safe_properties: Iterable[str] = (),
) -> list[Problem]:
    """Keys of one layer's `spark_conf`/`hadoop_conf` that the layer (`owner`) does not own, and JVM options
    that do more than tune the JVM."""
    problems: list[Problem] = []
    hadoop = field == "hadoop_conf"
    for key, value in conf.items():
        path = format_path((field, key))
        if not _CONF_KEY.match(key):
            problems.append(Problem(path, key, "conf-key: keys start with a letter, without spaces or quotes"))
            continue
        if hadoop and key.strip().lower().startswith("spark."):
            problems.append(Problem(path, key, "hadoop-key: Hadoop keys do not start with 'spark.' (use spark_conf)"))
            continue
        claim = ownership.conf_claim(key, hadoop, locked, allow)
        if not _owns(owner, claim):
            problems.append(Problem(path, value, _refusal(claim, owner)))
        elif not hadoop and not key.strip().startswith("spark."):
            problems.append(
                Problem(
                    path, key, "spark-key: Spark reads only keys starting with 'spark.' (Hadoop keys go in hadoop_conf)"
                )
            )
        elif ownership.canonical_keys(key, hadoop)[0] in ownership.JAVA_OPTION_KEYS and not is_templated(value):
            problems += [Problem(path, value, rule) for rule in ownership.java_option_problems(value, safe_properties)]
    return problems


def _owns(owner: Owner, claim: Claim) -> bool:
    if claim.rule == "typed-field":
        return False  # every layer sets these through the typed field, where the caps see them
    rank = {Owner.PLATFORM: 2, Owner.TENANT: 1, Owner.JOB: 0}
    return rank[owner] >= rank[claim.owner]


def _refusal(claim: Claim, owner: Owner) -> str:
    if claim.rule in ("typed-field", "locked-key", "not-allowed"):
        return f"{claim.rule}: {claim.why}"
    return f"{claim.rule}: only the {claim.owner.value} sets this ({claim.why}); the {owner.value} may not"


def spelling_problems(layers: Iterable[tuple[str, Mapping[str, str]]]) -> list[Problem]:
    """One key in two spellings (`spark.memory.offHeap.enabled` and `...offheap.enabled`, an alias and its
    key, a Hadoop key in both fields) would be two keys to this check and one to whoever reads it last:
    refused wherever the second spelling appears. `layers` are (field, conf), in merge order."""
    seen: dict[str, str] = {}
    problems = []
    for field, conf in layers:
        for key in conf:
            name = ownership.canonical_keys(key, field == "hadoop_conf")[0]
            spelled = ("spark.hadoop." + key.strip()) if field == "hadoop_conf" else key.strip()
            first = seen.setdefault(name, spelled)
            if first != spelled:
                problems.append(
                    Problem(format_path((field, key)), key, f"conf-key: the same key as {first!r}, spelled otherwise")
                )
    return problems


def field_lock_problems(deps: Mapping[str, list[str]], locked: Iterable[tuple[str, Owner]]) -> list[Problem]:
    """A lock on `spark.jars*` holds on `deps.jars` too: typed fields are checked by the key they render."""
    problems = []
    for field, values in deps.items():
        key = ownership.FIELD_KEYS.get(f"deps.{field}")
        claim = ownership.lock_claim([key], locked) if values and key else None
        if claim:
            problems.append(Problem(f"deps.{field}", values, f"{claim.rule}: {key} is {claim.why}"))
    return problems


def env_problems(env: Mapping[str, str], owner: Owner) -> list[Problem]:
    """Malformed names, and variables that launch, locate or identify (the platform's)."""
    problems: list[Problem] = []
    for name in env:
        path = format_path(("env", name))
        if not _ENV_NAME.match(name):
            problems.append(Problem(path, name, "env-name: letters, digits and '_', not starting with a digit"))
            continue
        claim = ownership.env_claim(name)
        if not _owns(owner, claim):
            problems.append(Problem(path, name, _refusal(claim, owner)))
    return problems


def image_problems(image: str | None, profile: PlatformProfile, tenant: Tenant) -> list[Problem]:
    """The image must be under the profile's prefixes and, if the tenant lists its own, under those too: a
    tenant narrows the platform's registries, never widens them."""
    if not image:
        return [Problem("image", image, "required: set image in the job or the profile")]
    for allowed in (profile.allowed_images, tenant.allowed_images):
        if allowed and not any(_image_allowed(image, prefix) for prefix in allowed):
            return [Problem("image", image, f"allowed-image: must start with one of {', '.join(allowed)}")]
    return []


_EMR_BASE_IMAGE = re.compile(r"/spark/emr-(\d+\.\d+\.\d+)(?=[:@]|$)")
_EMR_RELEASE = re.compile(r"^emr-(\d+\.\d+\.\d+)")


def emr_image(image: str, origin: str, profile: PlatformProfile) -> tuple[bool, list[Problem]]:
    """Whether EMR on EKS runs `image` (set by the layer `origin`) instead of the release's own image, and
    why not if it must not. The image already passed `image_problems`. Under `emr.allowed_images` (the
    platform's EMR custom images) it runs; outside them, the profile's own image is the Spark Operator's
    (EMR runs the release's image) and a tenant's or job's is refused. With no such list nothing tells an
    EMR custom image from an Apache Spark one, so it runs as is. An EMR *base* image (`.../spark/emr-7.5.0`)
    must match the release label either way."""
    emr = profile.emr
    prefixes = emr.allowed_images
    if prefixes and not any(_image_allowed(image, prefix) for prefix in prefixes):
        if origin.startswith("profile:"):
            return False, []
        return False, [
            Problem(
                "image",
                image,
                f"emr-image: on emr_on_eks the image ({origin}) must be an EMR custom image, starting with one "
                f"of {', '.join(prefixes)} (emr.allowed_images)",
            )
        ]
    base, release = _EMR_BASE_IMAGE.search(image), _EMR_RELEASE.match(emr.release_label)
    if base and release and base.group(1) != release.group(1) and not emr.job_template_id:
        return False, [
            Problem(
                "image",
                image,
                f"emr-image: an EMR {base.group(1)} base image cannot run release_label {emr.release_label}: "
                f"use the base image of emr-{release.group(1)} or an image built FROM it",
            )
        ]
    return True, []


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


def cap_problems(
    pods: Mapping[str, PodRequest],
    written: Mapping[str, str],
    instances: int | None,
    dynamic: tuple[int, int] | None,
    tenant: Tenant,
) -> list[Problem]:
    """What the pods request (heap + overhead + off-heap + Python memory; CPU with its request and limit
    overrides) and how many executors there can be, against the tenant's caps. `written` is each role's
    memory as its layer wrote it, for the message."""
    problems: list[Problem] = []
    cap = tenant.max_executors
    if cap is not None:
        counts = [("executor.instances", instances)]
        if dynamic:
            counts += [("dynamic_allocation.max_executors", dynamic[1])]
        for path, value in counts:
            if value is not None and value > cap:
                problems.append(Problem(path, value, f"max-executors: tenant allows at most {cap}"))
    for role, limit in (("executor", tenant.max_executor_memory), ("driver", tenant.max_driver_memory)):
        pod = pods[role]
        if limit is not None and pod.memory_kib > memory_kib(limit):
            problems.append(
                Problem(
                    f"{role}.memory",
                    written[role],
                    f"max-memory: {role} pod memory {pod.describe()} is over the tenant's cap {limit}",
                )
            )
    cores = tenant.max_executor_cores
    if cores is not None and pods["executor"].cores > cores:
        problems.append(
            Problem(
                "executor.cores",
                pods["executor"].cores,
                f"max-cores: executor pod CPU {pods['executor'].cores:g} is over the tenant's cap {cores}",
            )
        )
    return problems


def storage_problems(sizes: Mapping[str, str], tenant: Tenant) -> list[Problem]:
    """The profile's ephemeral-storage limit and local volume size against the tenant's cap."""
    cap = tenant.max_local_storage
    if cap is None:
        return []
    return [
        Problem(path, size, f"max-local-storage: tenant allows at most {cap} per pod")
        for path, size in sizes.items()
        if memory_kib(size) > memory_kib(cap)
    ]


def required_label_problems(labels: Mapping[str, str], required: Iterable[str]) -> list[Problem]:
    return [
        Problem(format_path(("labels", key)), labels.get(key), "required-label: the tenant requires this label")
        for key in required
        if not labels.get(key)
    ]


def reserved_label_problems(labels: Mapping[str, str]) -> list[Problem]:
    """Label keys that Kubernetes, Karpenter, Spark, EMR or the platform set and select on."""
    problems = []
    for key, value in labels.items():
        claim = ownership.label_claim(key)
        if claim.owner is not Owner.JOB:
            problems.append(Problem(format_path(("labels", key)), value, f"{claim.rule}: {claim.why}"))
    return problems


def pinned_problems(job: SparkJob, tenant: Tenant) -> list[Problem]:
    """Job values that differ from what the tenant pinned, Spark keys in any spelling (repeating a pinned
    value changes nothing, so it passes)."""
    pins = tenant.pinned
    values: dict[str, tuple[Any, Any]] = {
        f"labels.{key}": (value, pins.labels[key]) for key, value in (job.labels or {}).items() if key in pins.labels
    }
    if pins.capacity and job.capacity:
        values["capacity"] = (job.capacity, pins.capacity)
    conf = {ownership.canonical_keys(key)[0]: value for key, value in pins.spark_conf.items()}
    for field in ("spark_conf", "hadoop_conf"):
        for key, value in (getattr(job, field) or {}).items():
            hit = next((name for name in ownership.canonical_keys(key, field == "hadoop_conf") if name in conf), None)
            if hit:
                values[format_path((field, key))] = (value, conf[hit])
    return [
        Problem(path, given, f"pinned: the tenant pins {path} to {pinned!r}")
        for path, (given, pinned) in values.items()
        if given != pinned
    ]


def locations(job: SparkJob | ResolvedJob) -> dict[str, str]:
    """Every URI of a job's code and data, by the path a message names."""
    uris = {"main_application_file": job.main_application_file}
    for field in ("jars", "py_files", "files"):
        uris |= {f"deps.{field}[{i}]": uri for i, uri in enumerate(getattr(job.deps, field))}
    for field in ("inputs", "outputs"):
        uris |= {f"{field}[{i}]": uri for i, uri in enumerate(getattr(job, field))}
    return uris


def _is_code(path: str) -> bool:
    return not path.startswith(("inputs", "outputs"))


def location_problems(uris: Mapping[str, str], tenant: Tenant, deps: Deps) -> list[Problem]:
    """Code and data outside the tenant's prefixes, and `https://` code unless the tenant allows it.
    `local://` files are in the platform's image, so they pass; Maven packages come from repositories
    outside any prefix, so a tenant with prefixes gets none."""
    problems: list[Problem] = []
    if tenant.data_prefixes and deps.packages:
        problems.append(Problem("deps.packages", deps.packages, "data-prefix: packages come from outside the prefixes"))
    if deps.repositories and not tenant.allow_https:
        problems.append(
            Problem("deps.repositories", deps.repositories, "uri-scheme: the tenant does not allow https://")
        )
    for path, uri in uris.items():
        scheme = uri_scheme(uri)
        if scheme == "https" and _is_code(path) and not tenant.allow_https:
            problems.append(Problem(path, uri, "uri-scheme: the tenant does not allow https:// code"))
        elif tenant.data_prefixes and scheme != "local" and not _under_any(uri, tenant.data_prefixes):
            problems.append(
                Problem(path, uri, f"data-prefix: outside the tenant's prefixes ({', '.join(tenant.data_prefixes)})")
            )
    return problems


def local_file_problems(uris: Mapping[str, str]) -> list[Problem]:
    """`file://` and plain paths name the submitting machine's files: only the local backend has them."""
    return [
        Problem(path, uri, "uri-scheme: local files exist only on the local backend; use s3:// or local://")
        for path, uri in uris.items()
        if _is_code(path) and uri_scheme(uri) == "file" and not is_templated(uri)
    ]


def _under_any(uri: str, prefixes: Iterable[str]) -> bool:
    """Under a prefix at a path boundary, with `s3a://` and `s3n://` read as `s3://` (the same objects).
    A templated URI passes on its literal start; it is checked in full once rendered."""
    if is_templated(uri):
        uri = uri[: uri.index("{{")]
        return any(_same_scheme(p).startswith(_same_scheme(uri)) or _under(uri, p) for p in prefixes)
    return any(_under(uri, prefix) for prefix in prefixes)


def _under(uri: str, prefix: str) -> bool:
    uri, prefix = _same_scheme(uri), _same_scheme(prefix)
    if not uri.startswith(prefix):
        return False
    return prefix.endswith("/") or uri[len(prefix) : len(prefix) + 1] in ("", "/")


def _same_scheme(uri: str) -> str:
    for alias in ("s3a://", "s3n://"):
        if uri.startswith(alias):
            return "s3://" + uri[len(alias) :]
    return uri
