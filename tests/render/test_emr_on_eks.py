from __future__ import annotations

import shlex

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.render.emr_on_eks import EmrJobRun, explain_emr_job_run, job_run_name, render_emr_job_run
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


EMR_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/emr-spark/compaction:emr-7.5.0-2026.11"
IMAGE_KEY = "spark.kubernetes.container.image"


def _properties(run: EmrJobRun) -> dict[str, str]:
    [defaults] = run.request["configurationOverrides"]["applicationConfiguration"]
    return dict(defaults["properties"])


def _with_emr(profile: PlatformProfile, **emr: object) -> PlatformProfile:
    return PlatformProfile.model_validate({**profile.model_dump(), "emr": {**profile.emr.model_dump(), **emr}})


def test_a_jobs_emr_custom_image_is_rendered_with_its_origin(job: SparkJob, profile: PlatformProfile) -> None:
    resolved = resolve(_job(job, image=EMR_IMAGE), profile)
    run = render_emr_job_run(resolved)
    assert _properties(run)[IMAGE_KEY] == EMR_IMAGE
    assert emr_request_problems(run.request) == []
    origins = {path: origin for path, _, origin in explain_emr_job_run(resolved)}
    key = f"configurationOverrides.applicationConfiguration[0].properties[{IMAGE_KEY}]"
    assert origins[key] == f"job:{job.name}"


def test_the_profiles_spark_operator_image_is_not_sent_to_emr(job: SparkJob, profile: PlatformProfile) -> None:
    """The example profile's image is Apache Spark's and not under `emr.allowed_images`: the release's own
    image runs, as it did before EMR honoured images."""
    assert profile.image and profile.emr.allowed_images
    assert not profile.image.startswith(tuple(profile.emr.allowed_images))
    run = render_emr_job_run(resolve(job, profile))
    assert IMAGE_KEY not in _properties(run)
    assert IMAGE_KEY not in run.request["jobDriver"]["sparkSubmitJobDriver"].get("sparkSubmitParameters", "")


def test_a_jobs_image_outside_the_emr_images_is_refused(job: SparkJob, profile: PlatformProfile) -> None:
    """Allowed by the registry guardrail, but an Apache Spark image: refused when the job is prepared, naming
    the field, the value and the EMR images allowed."""
    oss = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark:3.5.1-scala2.12-java17-ubuntu"
    with pytest.raises(SpecError) as caught:
        prepare(_job(job, image=oss), profile, target="emr_on_eks")
    [problem] = caught.value.problems
    assert (problem.path, problem.value) == ("image", oss)
    assert "emr-image" in problem.rule and "123456789012.dkr.ecr.eu-west-1.amazonaws.com/emr-spark/" in problem.rule
    assert prepare(_job(job, image=oss), profile, target="spark_operator").document["spec"]["image"] == oss


def test_without_emr_allowed_images_the_profiles_image_is_honoured(job: SparkJob, profile: PlatformProfile) -> None:
    """Nothing in the profile tells an EMR custom image from another: the image is used (the EMR how-to
    says it must be built FROM the release's base image), attributed to the profile."""
    open_profile = _with_emr(profile, allowed_images=[])
    resolved = resolve(job, open_profile)
    run = render_emr_job_run(resolved)
    assert _properties(run)[IMAGE_KEY] == open_profile.image
    assert emr_request_problems(run.request) == []
    explained = [(path, origin) for path, _, origin in explain_emr_job_run(resolved) if IMAGE_KEY in path]
    assert explained == [
        (f"configurationOverrides.applicationConfiguration[0].properties[{IMAGE_KEY}]", f"profile:{profile.name}")
    ]


@pytest.mark.parametrize(
    ("image", "refused"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark/emr-7.5.0:latest", False),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark/emr-6.15.0:latest", True),
    ],
)
def test_an_emr_base_image_must_match_the_release_label(
    job: SparkJob, profile: PlatformProfile, image: str, refused: bool
) -> None:
    open_profile = _with_emr(profile, allowed_images=[])
    if refused:
        with pytest.raises(SpecError, match=r"image.*emr-image: an EMR 6\.15\.0 base image cannot run.*emr-7\.5\.0"):
            render_emr_job_run(resolve(_job(job, image=image), open_profile))
    else:
        assert _properties(render_emr_job_run(resolve(_job(job, image=image), open_profile)))[IMAGE_KEY] == image


def test_a_job_template_gets_the_image_through_its_submit_parameters(job: SparkJob, profile: PlatformProfile) -> None:
    small = PlatformProfile.model_validate({**profile.model_dump(), "spark_conf": {}, "local_storage": {}})
    templated = _templated(small, SparkSubmitParameters="{spark_submit_parameters}")
    run = render_emr_job_run(resolve(_job(job, image=EMR_IMAGE), templated))
    assert emr_request_problems(run.request) == []
    submit = shlex.split(run.request["jobTemplateParameters"]["SparkSubmitParameters"])
    assert f"{IMAGE_KEY}={EMR_IMAGE}" in submit


def test_a_tenant_cannot_reach_the_emr_image_through_spark_conf(job: SparkJob, profile: PlatformProfile) -> None:
    with pytest.raises(SpecError, match="platform-key"):
        prepare(_job(job, spark_conf={IMAGE_KEY: EMR_IMAGE}), profile, target="emr_on_eks")


@pytest.mark.parametrize(("managed", "expected"), [(True, "ENABLED"), (False, "DISABLED")])
def test_managed_logs_and_log_rotation_render_as_the_2026_api_names_them(
    job: SparkJob, profile: PlatformProfile, managed: bool, expected: str
) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    monitoring = profile.emr.monitoring.model_copy(
        update={
            "managed_logs": managed,
            "managed_logs_kms_key_arn": key,
            "container_log_rotation_size": "2GB",
            "container_log_max_files": 5,
        }
    )
    request = render_emr_job_run(resolve(job, _with_emr(profile, monitoring=monitoring))).request
    rendered = request["configurationOverrides"]["monitoringConfiguration"]
    assert rendered["managedLogs"] == {"allowAWSToRetainLogs": expected, "encryptionKeyArn": key}
    assert rendered["containerLogRotationConfiguration"] == {"rotationSize": "2GB", "maxFilesToKeep": 5}
    assert emr_request_problems(request) == []


def test_managed_logs_left_unset_are_the_virtual_clusters_default(job: SparkJob, profile: PlatformProfile) -> None:
    request = render_emr_job_run(resolve(job, profile)).request
    assert "managedLogs" not in request["configurationOverrides"]["monitoringConfiguration"]
