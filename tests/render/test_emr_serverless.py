from __future__ import annotations

import shlex
from typing import Any

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.render.emr_serverless import explain_emr_serverless_job_run, render_emr_serverless_job_run
from airflow_eks_data.render.renderers import EMR_SERVERLESS_JOB_RUN
from airflow_eks_data.resolve import resolve
from airflow_eks_data.validate.emr import emr_serverless_request_problems


def _job(job: SparkJob, **changes: object) -> SparkJob:
    return SparkJob.from_dict({**job.model_dump(exclude_none=True), **changes})


def _profile(profile: PlatformProfile, **serverless: object) -> PlatformProfile:
    data = profile.model_dump(exclude_none=True)
    return PlatformProfile.model_validate({**data, "emr_serverless": {**data["emr_serverless"], **serverless}})


def _request(job: SparkJob, profile: PlatformProfile) -> dict[str, Any]:
    return render_emr_serverless_job_run(resolve(job, profile))


def _properties(request: dict[str, Any]) -> dict[str, str]:
    [defaults] = request["configurationOverrides"]["applicationConfiguration"]
    assert defaults["classification"] == "spark-defaults"
    return dict(defaults["properties"])


def test_the_example_request(job: SparkJob, profile: PlatformProfile) -> None:
    request = _request(job, profile)
    assert set(request) == {
        "applicationId",
        "executionRoleArn",
        "name",
        "jobDriver",
        "configurationOverrides",
        "tags",
        "retryPolicy",
    }
    assert request["applicationId"] == "00fexampledatalake"
    assert request["executionRoleArn"] == "arn:aws:iam::123456789012:role/emr-serverless-datalake"
    driver = request["jobDriver"]["sparkSubmit"]
    assert driver["entryPoint"] == job.main_application_file
    assert driver["entryPointArguments"] == job.arguments
    assert driver["sparkSubmitParameters"] == "--class com.example.datalake.Compaction"
    properties = _properties(request)
    assert properties["spark.executor.instances"] == "10" and properties["spark.executor.memory"] == "8g"
    assert properties["spark.driver.cores"] == "1" and properties["spark.driver.memory"] == "2g"
    # The service's default is dynamic allocation: a fixed count must say otherwise to hold.
    assert properties["spark.dynamicAllocation.enabled"] == "false"
    assert properties["spark.emr-serverless.executor.disk"] == "200G"
    assert not any(key.startswith("spark.kubernetes.") or key == "spark.local.dir" for key in properties)
    assert emr_serverless_request_problems({**request, "clientToken": "attempt-1"}) == []


def test_the_registry_document_is_the_request_only(job: SparkJob, profile: PlatformProfile) -> None:
    prepared = prepare(job, profile, target="emr_serverless")
    assert set(prepared.document) == {"request"} and "clientToken" not in prepared.document["request"]


def test_dynamic_allocation_and_driver_env(job: SparkJob, profile: PlatformProfile) -> None:
    dynamic = _job(
        job, dynamic_allocation={"enabled": True, "min_executors": 2, "max_executors": 20}, env={"MODE": "x"}
    )
    properties = _properties(_request(dynamic, profile))
    assert properties["spark.dynamicAllocation.enabled"] == "true"
    assert properties["spark.dynamicAllocation.maxExecutors"] == "20"
    assert "spark.executor.instances" not in properties
    assert properties["spark.emr-serverless.driverEnv.MODE"] == "x" and properties["spark.executorEnv.MODE"] == "x"
    assert "spark.kubernetes.driverEnv.MODE" not in properties


def test_arguments_and_submit_parameters_are_quoted(job: SparkJob, profile: PlatformProfile) -> None:
    tricky = _job(
        job,
        arguments=["--where", "a = 'b' and c", "--conf", "spark.x=y"],
        deps={"jars": ["s3://example-artifacts/jars/udf one.jar".replace(" ", "%20")]},
        spark_conf={"spark.custom.long": 'it\'s a "long" ' * 100 + "end"},
    )
    driver = _request(tricky, profile)["jobDriver"]["sparkSubmit"]
    assert driver["entryPointArguments"] == ["--where", "a = 'b' and c", "--conf", "spark.x=y"]
    tokens = shlex.split(driver["sparkSubmitParameters"])
    assert tokens[:4] == [
        "--class",
        "com.example.datalake.Compaction",
        "--jars",
        "s3://example-artifacts/jars/udf%20one.jar",
    ]
    assert tokens[4:] == ["--conf", "spark.custom.long=" + 'it\'s a "long" ' * 100 + "end"]


def test_properties_over_the_limits_overflow(job: SparkJob, profile: PlatformProfile) -> None:
    conf = {f"spark.custom.k{index:03d}": str(index) for index in range(150)} | {"spark.custom.blank": " "}
    request = _request(_job(job, spark_conf=conf), profile)
    properties = _properties(request)
    assert len(properties) == 100 and "spark.custom.blank" not in properties
    assert emr_serverless_request_problems({**request, "clientToken": "t"}) == []


@pytest.mark.parametrize(("timeout", "minutes"), [("90s", 2), ("1h", 60), (60, 1), (61, 2)])
def test_timeout_rounds_up_to_minutes(job: SparkJob, profile: PlatformProfile, timeout: object, minutes: int) -> None:
    assert _request(_job(job, timeout=timeout), profile)["executionTimeoutMinutes"] == minutes


def test_no_timeout_no_retry_policy(job: SparkJob, profile: PlatformProfile) -> None:
    request = _request(job, _profile(profile, retry_policy=None))
    assert "executionTimeoutMinutes" not in request and "retryPolicy" not in request


def test_retry_policy(job: SparkJob, profile: PlatformProfile) -> None:
    policy = {"max_attempts": 3, "max_failed_attempts_per_hour": 5}
    request = _request(job, _profile(profile, retry_policy=policy))
    assert request["retryPolicy"] == {"maxAttempts": 3, "maxFailedAttemptsPerHour": 5}


def test_tags_are_the_profiles_and_the_cost_labels(job: SparkJob, profile: PlatformProfile) -> None:
    tags = _request(_job(job, labels={"team": "data-platform", "cost-center": "cc-42", "platform": "mine"}), profile)[
        "tags"
    ]
    assert tags == {
        "team": "data-platform",
        "cost-center": "cc-42",
        "platform": "compaction",  # the profile's tag wins over a job's label of the same key
        "airflow-eks-data/tenant": "datalake",
        "airflow-eks-data/job": "compact-events",
    }


def test_monitoring(job: SparkJob, profile: PlatformProfile) -> None:
    monitoring = _request(job, profile)["configurationOverrides"]["monitoringConfiguration"]
    assert monitoring == {
        "managedPersistenceMonitoringConfiguration": {"enabled": True},
        "s3MonitoringConfiguration": {"logUri": "s3://example-logs/emr-serverless/"},
        "cloudWatchLoggingConfiguration": {
            "enabled": True,
            "logGroupName": "/emr-serverless/compaction",
            "logStreamNamePrefix": "compaction",
        },
    }
    bare = _request(job, _profile(profile, monitoring={"managed_persistence": False}))
    assert bare["configurationOverrides"]["monitoringConfiguration"] == {
        "managedPersistenceMonitoringConfiguration": {"enabled": False}
    }


def test_a_tenant_without_the_section_fails_at_prepare(job: SparkJob, profile: PlatformProfile) -> None:
    data = profile.model_dump(exclude_none=True)
    del data["tenants"]["datalake"]["emr_serverless"]
    with pytest.raises(
        SpecError, match=r"tenants\.datalake\.emr_serverless: None: required for emr_serverless: .*application_id"
    ):
        prepare(job, PlatformProfile.model_validate(data), target="emr_serverless")


def test_a_job_cannot_choose_the_image(job: SparkJob, profile: PlatformProfile) -> None:
    chosen = _job(job, image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark:3.5.1")
    with pytest.raises(SpecError, match=r"image: .*emr-image: on emr_serverless the application's image runs"):
        _request(chosen, profile)


def test_botocore_names_a_broken_value(job: SparkJob, profile: PlatformProfile) -> None:
    request = {**_request(job, profile), "executionRoleArn": "not-an-arn", "applicationId": "Not_An_Id"}
    text = "\n".join(str(problem) for problem in emr_serverless_request_problems(request))
    assert "clientToken" in text  # the model requires it: the runner adds it per attempt
    assert "executionRoleArn: 'not-an-arn': emr-limit: must match" in text
    assert "applicationId: 'Not_An_Id': emr-limit: must match" in text
    problems = EMR_SERVERLESS_JOB_RUN.problems(resolve(job, profile), {"request": request}, None)
    assert {problem.path for problem in problems} == {"request", "applicationId", "executionRoleArn"}
    assert not any("clientToken" in str(problem) for problem in problems)


def test_explain_shows_origins(job: SparkJob, profile: PlatformProfile) -> None:
    rows = {path: origin for path, _, origin in explain_emr_serverless_job_run(resolve(job, profile))}
    properties = "configurationOverrides.applicationConfiguration[0].properties"
    assert rows["applicationId"] == rows["executionRoleArn"] == "tenant:datalake"
    assert rows["jobDriver.sparkSubmit.entryPoint"] == "job:compact-events"
    assert rows[f"{properties}[spark.executor.memory]"] == "job:compact-events"
    assert rows[f"{properties}[spark.emr-serverless.executor.disk]"] == "profile:compaction"
    assert rows["tags.team"] == "job:compact-events" and rows["tags.platform"] == "profile:compaction"
    assert rows["retryPolicy.maxAttempts"] == "profile:compaction"
    assert rows["configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.logUri"] == (
        "profile:compaction"
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"storage": {"executor_disk": "500G"}}, "a standard disk is at most 200G"),
        ({"storage": {"driver_disk": "10G"}}, "from 20G"),
        ({"release_label": "emr-7.5.0-latest"}, "pattern"),
        ({"monitoring": {"log_stream_prefix": "x"}}, "needs a cloudwatch_log_group"),
        ({"retry_policy": {"max_attempts": 0}}, "greater than or equal to 1"),
    ],
)
def test_a_wrong_setting_fails_when_the_profile_loads(
    profile: PlatformProfile, section: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _profile(profile, **section)


def test_a_wrong_application_id_fails_when_the_profile_loads(profile: PlatformProfile) -> None:
    data = profile.model_dump(exclude_none=True)
    data["tenants"]["datalake"]["emr_serverless"]["application_id"] = "App-1"
    with pytest.raises(ValueError, match="pattern"):
        PlatformProfile.model_validate(data)
