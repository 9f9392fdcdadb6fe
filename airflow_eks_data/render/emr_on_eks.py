"""Render a resolved job as an EMR on EKS `StartJobRun` request plus its driver and executor pod templates.

The API's limits are met here rather than discovered at submit time: at most 100 properties per
classification and 1,024 characters per value (the rest move to `--conf` in sparkSubmitParameters),
a 256-character entry point, a restricted job-name charset, and 1,024 characters per job template
parameter. With a job template (`emr.job_template_id`) the request names the template and passes
the profile's parameters, formatted with the job's values; the template holds the rest.

A custom image (built FROM the EMR base image of the release) travels as `spark.kubernetes.container.image`;
which images count as EMR's is the profile's `emr.allowed_images` (`guardrails.emr_image`).
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.jobspec.names import shorten
from airflow_eks_data.jobspec.profile import TenantEmr
from airflow_eks_data.render.conf import dependency_options, spark_properties
from airflow_eks_data.render.pod_template import JOB_LABEL, TENANT_LABEL, pod_template
from airflow_eks_data.render.sourced import Explained, Sourced, split, src
from airflow_eks_data.resolve import guardrails
from airflow_eks_data.resolve.resolved import ResolvedJob

MAX_PROPERTIES = 100
MAX_VALUE = 1024
MAX_ENTRY_POINT = 256
MAX_NAME = 64
IMAGE_KEY = "spark.kubernetes.container.image"
_NAME_CHARS = re.compile(r"[^.\-_/#A-Za-z0-9]+")


@dataclass(frozen=True)
class EmrJobRun:
    """A `StartJobRun` request and the pod templates (by S3 URI) it references."""

    request: dict[str, Any]
    pod_templates: dict[str, dict[str, Any]]


def job_run_name(text: str) -> str:
    """A name in the API's charset and length; Airflow run ids contain `:` and `+`."""
    return shorten(_NAME_CHARS.sub("-", text).strip("-") or "job", MAX_NAME)


def render_emr_job_run(job: ResolvedJob, client_token: str | None = None) -> EmrJobRun:
    """The request for `StartJobRun`; `client_token` makes a retried call idempotent (default: app name)."""
    tree, templates = _build(job, client_token)
    request, _ = split(tree)
    return EmrJobRun(request=request, pod_templates=templates)


def explain_emr_job_run(job: ResolvedJob) -> Explained:
    return split(_build(job, None)[0], explain=True)[1]


def _build(job: ResolvedJob, client_token: str | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    emr = job.tenant.emr
    profile_layer = f"profile:{job.profile.name}"
    tenant_layer = f"tenant:{job.tenant_name}"
    if emr is None:
        raise SpecError(
            [
                Problem(
                    f"tenants.{job.tenant_name}.emr",
                    None,
                    "required for emr_on_eks: virtual cluster and role",
                )
            ]
        )
    if len(job.main_application_file) > MAX_ENTRY_POINT:
        raise SpecError(
            [
                Problem(
                    "main_application_file",
                    job.main_application_file,
                    f"emr-limit: at most {MAX_ENTRY_POINT} characters",
                )
            ]
        )
    for index, argument in enumerate(job.arguments):
        if not argument.strip():
            raise SpecError([Problem(f"arguments[{index}]", argument, "emr-limit: arguments must not be blank")])
    conf: dict[str, Any] = spark_properties(job, resources=True)
    conf.update(_image(job))
    templates = _pod_templates(job, conf)
    properties, overflow = fit_properties(conf)
    driver = spark_submit_driver(job, overflow)
    request: dict[str, Any] = {
        "name": job_run_name(job.app_name),
        "virtualClusterId": Sourced(emr.virtual_cluster_id, tenant_layer),
        "clientToken": client_token or job.app_name,
    }
    if job.profile.emr.job_template_id:
        # The template holds the release, role, driver and configuration: the platform enforces them there.
        request["jobTemplateId"] = Sourced(job.profile.emr.job_template_id, profile_layer)
        request["jobTemplateParameters"] = _template_parameters(job, emr, conf, templates)
    else:
        request |= {
            "executionRoleArn": Sourced(emr.execution_role_arn, tenant_layer),
            "releaseLabel": Sourced(job.profile.emr.release_label, profile_layer),
            "jobDriver": {"sparkSubmitJobDriver": driver},
            "configurationOverrides": {
                "applicationConfiguration": [{"classification": "spark-defaults", "properties": properties}],
                **_monitoring(job),
            },
        }
    request["tags"] = run_tags(job, job.profile.emr.tags)
    return request, templates


def run_tags(job: ResolvedJob, *layers: Mapping[str, str | Sourced]) -> dict[str, Any]:
    """`layers` of tags, later ones winning, then the package's tenant and job tags, cut to the API's
    key and value lengths (128, 256)."""
    tags: dict[str, str | Sourced] = {key: value for layer in layers for key, value in layer.items()}
    tags |= {TENANT_LABEL: job.tenant_name, JOB_LABEL: job.job_name}
    return {
        key[:128]: Sourced(value.value[:256], value.origin) if isinstance(value, Sourced) else value[:256]
        for key, value in tags.items()
    }


def _template_parameters(
    job: ResolvedJob, emr: TenantEmr, conf: dict[str, Any], templates: dict[str, dict[str, Any]]
) -> dict[str, Sourced]:
    """The profile's `job_template_parameters`, formatted with this job's values."""
    driver_template, executor_template = templates  # driver first, as `_pod_templates` makes them
    values = {
        "entry_point": job.main_application_file,
        "arguments": shlex.join(job.arguments),
        "main_class": job.main_class or "",
        "spark_submit_parameters": submit_parameters(job, conf),
        "driver_pod_template": driver_template,
        "executor_pod_template": executor_template,
        "driver_cores": str(job.driver.cores),
        "driver_memory": job.driver.memory,
        "executor_cores": str(job.executor.cores),
        "executor_memory": job.executor.memory,
        "executor_instances": str(job.executor_instances),
        "job_name": job.job_name,
        "app_name": job.app_name,
        "tenant": job.tenant_name,
        "release_label": job.profile.emr.release_label,
        "execution_role_arn": emr.execution_role_arn,
    }
    parameters: dict[str, Sourced] = {}
    problems: list[Problem] = []
    for name, template in job.profile.emr.job_template_parameters.items():
        value = template.format(**values)
        if not 0 < len(value) <= MAX_VALUE:
            problems.append(
                Problem(
                    f"emr.job_template_parameters.{name}",
                    template,
                    f"emr-limit: a parameter's value has 1 to {MAX_VALUE} characters, this job's has {len(value)}",
                )
            )
        parameters[name] = Sourced(value, f"profile:{job.profile.name}")
    if problems:
        raise SpecError(problems)
    return parameters


def _pod_templates(job: ResolvedJob, conf: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Templates under content-hashed S3 keys (uploading the same template twice is a no-op)."""
    prefix = job.profile.emr.pod_template_s3_prefix
    if not prefix:
        raise SpecError(
            [
                Problem(
                    "emr.pod_template_s3_prefix",
                    None,
                    "required for emr_on_eks: placement travels in pod templates",
                )
            ]
        )
    templates: dict[str, dict[str, Any]] = {}
    for role in ("driver", "executor"):
        document, _ = split(pod_template(job, role))
        pod = {"apiVersion": "v1", "kind": "Pod", **document}
        digest = hashlib.sha256(json.dumps(pod, sort_keys=True).encode()).hexdigest()[:16]
        uri = f"{prefix.rstrip('/')}/{digest}-{role}.yaml"
        templates[uri] = pod
        conf[f"spark.kubernetes.{role}.podTemplateFile"] = Sourced(uri, f"profile:{job.profile.name}")
    return templates


def _image(job: ResolvedJob) -> dict[str, Sourced]:
    """`spark.kubernetes.container.image` (driver and executors) when EMR runs the job's image instead of
    the release's; it reaches a job template through `{spark_submit_parameters}`. The key is the
    platform's: the image comes only through the typed field, after the allowed-image checks."""
    runs, problems = guardrails.emr_image(job.image, job.origin("image"), job.profile)
    if problems:
        raise SpecError(problems)
    return {IMAGE_KEY: Sourced(job.image, job.origin("image"))} if runs else {}


def fit_properties(conf: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first 100 properties (sorted) with short, non-blank values stay in spark-defaults (both EMR APIs
    refuse more, longer or blank ones there); the rest overflow to `--conf`."""
    kept: dict[str, Any] = {}
    overflow: dict[str, Any] = {}
    for key in sorted(conf):
        value = conf[key]
        text = value.value if isinstance(value, Sourced) else value
        fits = str(text).strip() != "" and len(str(text)) <= MAX_VALUE and len(key) <= MAX_VALUE
        if fits and len(kept) < MAX_PROPERTIES:
            kept[key] = value
        else:
            overflow[key] = value
    return kept, overflow


def spark_submit_driver(job: ResolvedJob, overflow: dict[str, Any]) -> dict[str, Any]:
    """The Spark job driver both EMR APIs take: entry point, its arguments (a list: nothing to quote) and
    the submit parameters."""
    driver: dict[str, Any] = {"entryPoint": src(job, "main_application_file", job.main_application_file)}
    if job.arguments:
        driver["entryPointArguments"] = src(job, "arguments", job.arguments)
    submit = submit_parameters(job, overflow)
    if submit:
        driver["sparkSubmitParameters"] = submit
    return driver


def submit_parameters(job: ResolvedJob, overflow: dict[str, Any]) -> str:
    """`--class`, the dependency options and the overflowing properties, quoted for the service's split."""
    parts: list[str] = []
    if job.main_class:
        parts += ["--class", job.main_class]
    parts += dependency_options(job)
    plain, _ = split(overflow)
    for key, value in plain.items():
        parts += ["--conf", f"{key}={value}"]
    return shlex.join(parts)


def _monitoring(job: ResolvedJob) -> dict[str, Any]:
    settings = job.profile.emr.monitoring
    layer = f"profile:{job.profile.name}"
    monitoring: dict[str, Any] = {"persistentAppUI": "ENABLED" if settings.persistent_app_ui else "DISABLED"}
    if settings.cloudwatch_log_group:
        cloudwatch = {"logGroupName": settings.cloudwatch_log_group}
        if settings.log_stream_prefix:
            cloudwatch["logStreamNamePrefix"] = settings.log_stream_prefix
        monitoring["cloudWatchMonitoringConfiguration"] = cloudwatch
    if settings.s3_log_uri:
        monitoring["s3MonitoringConfiguration"] = {"logUri": settings.s3_log_uri}
    if settings.managed_logs is not None:
        managed = {"allowAWSToRetainLogs": "ENABLED" if settings.managed_logs else "DISABLED"}
        if settings.managed_logs_kms_key_arn:
            managed["encryptionKeyArn"] = settings.managed_logs_kms_key_arn
        monitoring["managedLogs"] = managed
    if settings.container_log_rotation_size and settings.container_log_max_files:
        monitoring["containerLogRotationConfiguration"] = {
            "rotationSize": settings.container_log_rotation_size,
            "maxFilesToKeep": settings.container_log_max_files,
        }
    return {"monitoringConfiguration": Sourced(monitoring, layer)}
