from __future__ import annotations

import shlex

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.render.emr_on_eks import job_run_name, render_emr_job_run
from airflow_eks_data.resolve import resolve
from airflow_eks_data.validate.emr import emr_request_problems


def _job(job: SparkJob, **changes: object) -> SparkJob:
    return SparkJob.from_dict({**job.model_dump(exclude_none=True), **changes})


def test_request_passes_botocore_validation(job: SparkJob, profile: PlatformProfile) -> None:
    run = render_emr_job_run(resolve(job, profile), client_token="tok-1")
    assert emr_request_problems(run.request) == []
    assert run.request["virtualClusterId"] == "abcdef0123456789"
    assert run.request["clientToken"] == "tok-1"
    assert (
        run.request["jobDriver"]["sparkSubmitJobDriver"]["sparkSubmitParameters"]
        == "--class com.example.datalake.Compaction"
    )


def test_pod_templates_are_content_addressed(job: SparkJob, profile: PlatformProfile) -> None:
    run = render_emr_job_run(resolve(job, profile))
    properties = run.request["configurationOverrides"]["applicationConfiguration"][0]["properties"]
    assert set(run.pod_templates) == {
        properties["spark.kubernetes.driver.podTemplateFile"],
        properties["spark.kubernetes.executor.podTemplateFile"],
    }
    assert run.pod_templates == render_emr_job_run(resolve(job, profile)).pod_templates
    other = render_emr_job_run(resolve(_job(job, capacity="on-demand"), profile)).pod_templates
    assert set(other) != set(run.pod_templates)
    for uri, pod in run.pod_templates.items():
        assert uri.startswith("s3://example-artifacts/pod-templates/compaction/")
        assert pod["kind"] == "Pod" and pod["spec"]["affinity"]["nodeAffinity"]


def test_properties_over_the_limits_move_to_submit_parameters(job: SparkJob, profile: PlatformProfile) -> None:
    conf = {f"spark.custom.k{index:03d}": str(index) for index in range(150)}
    conf["spark.custom.long"] = "x" * 2000
    run = render_emr_job_run(resolve(_job(job, spark_conf=conf), profile))
    properties = run.request["configurationOverrides"]["applicationConfiguration"][0]["properties"]
    assert len(properties) == 100
    assert all(len(value) <= 1024 for value in properties.values())
    submit = shlex.split(run.request["jobDriver"]["sparkSubmitJobDriver"]["sparkSubmitParameters"])
    overflow = dict(item.split("=", 1) for item in submit[submit.index("--conf") :: 2][0:0] or [])
    overflow = {
        submit[i + 1].split("=", 1)[0]: submit[i + 1].split("=", 1)[1]
        for i, part in enumerate(submit)
        if part == "--conf"
    }
    assert overflow["spark.custom.long"] == "x" * 2000
    everything = {**properties, **overflow}
    assert all(everything[key] == value for key, value in conf.items())
    assert emr_request_problems(run.request) == []


def test_entry_point_over_256_characters_is_refused(job: SparkJob, profile: PlatformProfile) -> None:
    long_job = _job(job, main_application_file="s3://bucket/" + "a" * 250 + ".jar")
    with pytest.raises(SpecError, match="emr-limit: at most 256"):
        render_emr_job_run(resolve(long_job, profile))


def test_job_run_names_fit_the_api() -> None:
    name = job_run_name("hourly_compaction.compact:scheduled__2026-11-23T10:00:00+00:00" + "x" * 80)
    assert len(name) <= 64
    assert emr_request_problems({"name": name, "virtualClusterId": "abc", "clientToken": "t"}) == []


def test_botocore_catches_what_it_can(job: SparkJob, profile: PlatformProfile) -> None:
    request = dict(render_emr_job_run(resolve(job, profile)).request)
    request["name"] = "bad name: with spaces"
    request["executionRoleArn"] = "not-an-arn"
    del request["virtualClusterId"]
    text = "\n".join(str(problem) for problem in emr_request_problems(request))
    assert "virtualClusterId" in text
    assert "executionRoleArn" in text and "name" in text


def _templated(profile: PlatformProfile, **parameters: str) -> PlatformProfile:
    emr = {**profile.emr.model_dump(), "job_template_id": "0a1b2c3d4e", "job_template_parameters": parameters}
    return PlatformProfile.model_validate({**profile.model_dump(), "emr": emr})


def test_a_job_template_carries_the_job_through_its_parameters(job: SparkJob, profile: PlatformProfile) -> None:
    templated = _templated(
        profile,
        EntryPoint="{entry_point}",
        Arguments="{arguments}",
        ExecutorMemory="{executor_memory}",
        DriverTemplate="{driver_pod_template}",
    )
    run = render_emr_job_run(resolve(job, templated), client_token="tok-1")
    assert emr_request_problems(run.request) == []
    # The template holds the release, the role, the driver and the configuration: none in the request.
    assert set(run.request) == {
        "name",
        "virtualClusterId",
        "clientToken",
        "jobTemplateId",
        "jobTemplateParameters",
        "tags",
    }
    parameters = run.request["jobTemplateParameters"]
    resolved = resolve(job, templated)
    assert parameters["EntryPoint"] == resolved.main_application_file
    assert shlex.split(parameters["Arguments"]) == resolved.arguments
    assert parameters["ExecutorMemory"] == resolved.executor.memory
    assert parameters["DriverTemplate"] in run.pod_templates and parameters["DriverTemplate"].endswith("-driver.yaml")


def test_a_template_parameter_over_the_limit_is_refused(job: SparkJob, profile: PlatformProfile) -> None:
    templated = _templated(profile, Arguments="{arguments}")
    with pytest.raises(SpecError, match=r"emr\.job_template_parameters\.Arguments.*emr-limit: .* 1 to 1024"):
        render_emr_job_run(resolve(_job(job, arguments=["x" * 600, "y" * 600]), templated))


@pytest.mark.parametrize(
    ("emr", "message"),
    [
        ({"job_template_id": "0a1b", "job_template_parameters": {"X": "{no_such_value}"}}, "unknown placeholder"),
        ({"job_template_parameters": {"X": "{entry_point}"}}, "need a job_template_id"),
        ({"job_template_id": "Not-An-Id"}, "pattern"),
        ({"job_template_id": "0a1b", "job_template_parameters": {"bad name": "x"}}, "pattern"),
    ],
)
def test_a_wrong_job_template_setting_fails_when_the_profile_loads(
    profile: PlatformProfile, emr: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PlatformProfile.model_validate({**profile.model_dump(), "emr": {**profile.emr.model_dump(), **emr}})
