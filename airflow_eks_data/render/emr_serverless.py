"""Render a resolved job as an EMR Serverless `StartJobRun` request.

The application (release, image, network, capacity) is the platform's and exists already: the request
names it and adds the run. Resources travel as the Spark properties EMR Serverless sizes workers from;
the service turns dynamic allocation on unless told otherwise, so a job with a fixed executor count
says `spark.dynamicAllocation.enabled=false` and stays within the tenant's cap. Kubernetes volumes
(`local_storage`) do not exist there: the profile's worker disks (`spark.emr-serverless.*`) replace
them, and the driver's env moves to `spark.emr-serverless.driverEnv.*`. Properties over the
classification's limits overflow to `--conf`, as on EMR on EKS.

`clientToken` and the attempt's tags are not here: the runner adds them per attempt at submit.
"""

from __future__ import annotations

import math
from typing import Any

from airflow_eks_data.errors import Problem, SpecError, format_path
from airflow_eks_data.jobspec.emr_serverless import TenantEmrServerless
from airflow_eks_data.jobspec.names import is_templated
from airflow_eks_data.render.conf import local_storage_properties, spark_properties
from airflow_eks_data.render.emr_on_eks import fit_properties, job_run_name, run_tags, spark_submit_driver
from airflow_eks_data.render.sourced import Explained, Sourced, split, src
from airflow_eks_data.resolve.resolved import BUILTIN, ResolvedJob

MAX_ENTRY_POINT = 4096
DRIVER_ENV = "spark.kubernetes.driverEnv."
SERVERLESS_DRIVER_ENV = "spark.emr-serverless.driverEnv."


def render_emr_serverless_job_run(job: ResolvedJob) -> dict[str, Any]:
    """The `StartJobRun` request, without `clientToken` (the runner's, per attempt)."""
    request, _ = split(_build(job))
    return dict(request)


def explain_emr_serverless_job_run(job: ResolvedJob) -> Explained:
    return split(_build(job), explain=True)[1]


def tenant_section(job: ResolvedJob) -> TenantEmrServerless:
    """The tenant's application and role, or the problem saying the profile lacks them."""
    section = job.tenant.emr_serverless
    if section is None:
        raise SpecError(
            [
                Problem(
                    f"tenants.{job.tenant_name}.emr_serverless",
                    None,
                    "required for emr_serverless: the tenant's application_id and execution_role_arn",
                )
            ]
        )
    return section


def _build(job: ResolvedJob) -> dict[str, Any]:
    section = tenant_section(job)
    settings = job.profile.emr_serverless
    profile_layer, tenant_layer = f"profile:{job.profile.name}", f"tenant:{job.tenant_name}"
    _check_job(job)
    properties, overflow = fit_properties(_properties(job))
    driver = spark_submit_driver(job, overflow)
    overrides: dict[str, Any] = {
        "applicationConfiguration": [{"classification": "spark-defaults", "properties": properties}],
        "monitoringConfiguration": Sourced(monitoring_configuration(job), profile_layer),
    }
    request: dict[str, Any] = {
        "applicationId": Sourced(section.application_id, tenant_layer),
        "executionRoleArn": Sourced(section.execution_role_arn, tenant_layer),
        "name": job_run_name(job.app_name),
        "jobDriver": {"sparkSubmit": driver},
        "configurationOverrides": overrides,
        "tags": run_tags(job, _label_tags(job), {key: Sourced(v, profile_layer) for key, v in settings.tags.items()}),
    }
    if job.timeout:
        request["executionTimeoutMinutes"] = src(job, "timeout", math.ceil(job.timeout / 60))
    retry = settings.retry_policy
    if retry and (retry.max_attempts or retry.max_failed_attempts_per_hour):
        policy = {"maxAttempts": retry.max_attempts, "maxFailedAttemptsPerHour": retry.max_failed_attempts_per_hour}
        request["retryPolicy"] = Sourced({k: v for k, v in policy.items() if v is not None}, profile_layer)
    return request


def _check_job(job: ResolvedJob) -> None:
    """What a job could ask that a job run cannot carry: its own image (the application's runs), a longer
    entry point than the API takes."""
    problems: list[Problem] = []
    origin = job.origin("image")
    if not origin.startswith("profile:") and origin != BUILTIN:
        problems.append(
            Problem(
                "image",
                job.image,
                f"emr-image: on emr_serverless the application's image runs; the {origin} layer cannot choose "
                "one per job run (the platform sets it on the application)",
            )
        )
    if len(job.main_application_file) > MAX_ENTRY_POINT:
        problems.append(
            Problem(
                "main_application_file", job.main_application_file, f"emr-limit: at most {MAX_ENTRY_POINT} characters"
            )
        )
    if problems:
        raise SpecError(problems)


def _properties(job: ResolvedJob) -> dict[str, Any]:
    conf: dict[str, Any] = spark_properties(job, resources=True)
    for key in local_storage_properties(job):
        conf.pop(key, None)
    for key in [key for key in conf if key.startswith(DRIVER_ENV)]:
        conf[SERVERLESS_DRIVER_ENV + key[len(DRIVER_ENV) :]] = conf.pop(key)
    if job.dynamic_allocation is None:
        conf["spark.dynamicAllocation.enabled"] = Sourced("false", BUILTIN)
    layer = f"profile:{job.profile.name}"
    conf.update({key: Sourced(value, layer) for key, value in job.profile.emr_serverless.storage.properties().items()})
    return conf


def _label_tags(job: ResolvedJob) -> dict[str, Sourced]:
    """The job's labels (its cost labels among them) as tags. A templated value is left out until the task
    renders it: the tag charset has no braces, and the run-time render carries the value."""
    return {
        key: Sourced(value, job.origin(format_path(("labels", key))))
        for key, value in job.labels.items()
        if not is_templated(value)
    }


def monitoring_configuration(job: ResolvedJob) -> dict[str, Any]:
    """The profile's log destinations as `monitoringConfiguration`."""
    settings = job.profile.emr_serverless.monitoring
    monitoring: dict[str, Any] = {
        "managedPersistenceMonitoringConfiguration": {"enabled": settings.managed_persistence},
    }
    if settings.s3_log_uri:
        monitoring["s3MonitoringConfiguration"] = {"logUri": settings.s3_log_uri}
    if settings.cloudwatch_log_group:
        cloudwatch: dict[str, Any] = {"enabled": True, "logGroupName": settings.cloudwatch_log_group}
        if settings.log_stream_prefix:
            cloudwatch["logStreamNamePrefix"] = settings.log_stream_prefix
        monitoring["cloudWatchLoggingConfiguration"] = cloudwatch
    return monitoring
