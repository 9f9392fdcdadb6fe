"""Property-based tests (hypothesis, derandomized): whatever a job file, a profile or a conf key says,
loading, resolving, rendering and explaining either refuse it with `SpecError` or produce a document
that the pinned CRD schema (with its int32/int64 formats), botocore's model and spark-submit accept.

`tests/jobspec/test_properties.py` covers job and tenant dicts through `prepare`; this adds the YAML text
path (aliases, merge keys, tags), whole profiles, the guardrails' key matching, and the secret finder.
Inputs the fuzzing once found to break loading (YAML scalars Python cannot build, an int64 overflow, URL
templates with unknown placeholders, NUL characters) are pinned as regression tests at the end.
"""

from __future__ import annotations

import copy
import io
import sys
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft7Validator, FormatChecker

from airflow_eks_data.cli import main
from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.masking import MASK, MIN_LENGTH, find_secrets, redact
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.render import TARGETS, Target, explain
from airflow_eks_data.validate.crd import load_crd_schema, strict_schema
from airflow_eks_data.validate.emr import emr_request_problems, emr_serverless_request_problems
from tests.conftest import PROFILE_PATH
from tests.jobspec.test_properties import CONF_KEY, COUNT, JOBS, MEMORY, NAMEISH, SETTINGS, TEXT, resources

BASE_PROFILE: dict[str, Any] = yaml.safe_load(PROFILE_PATH.read_text())
BASE_PROFILE_MODEL = PlatformProfile.from_dict(BASE_PROFILE)
LABELS = {"team": "data-platform", "cost-center": "cc-42"}
HUGE = st.one_of(st.integers(-(10**30), 10**30), st.integers(2**31 - 2, 2**31 + 2), st.integers(2**63 - 2, 2**63 + 2))
QUANTITY = st.one_of(st.from_regex(r"[0-9]{1,4}(Ki|Mi|Gi|Ti|k|M|G)?", fullmatch=True), TEXT)
PATHISH = st.one_of(st.from_regex(r"(/[a-z0-9._-]{1,12}){1,4}", fullmatch=True), TEXT)


def _int_format(bits: int) -> Any:
    return lambda value: not isinstance(value, int) or -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)


FORMATS = FormatChecker()
FORMATS.checks("int32")(_int_format(32))
FORMATS.checks("int64")(_int_format(64))


@pytest.fixture(scope="module")
def crd_validator(crd_path: Path) -> Draft7Validator:
    """The strict CRD validator, also checking int32/int64 as the API server decodes them."""
    return Draft7Validator(strict_schema(load_crd_schema(crd_path)), format_checker=FORMATS)


@pytest.fixture(scope="module")
def crd_path() -> Path:  # module scope for the validator; the same lookup as the session's fixture
    from tests.conftest import reference_file

    return reference_file("SPARK_OPERATOR_CRD")


def check_document(target: Target, document: dict[str, Any], crd: Draft7Validator) -> None:
    """What each backend would receive is what it accepts."""
    if target == "spark_operator":
        assert [e.message for e in crd.iter_errors(document)] == []
    elif target == "emr_on_eks":
        assert emr_request_problems(document["request"]) == []
    elif target == "emr_serverless":
        assert emr_serverless_request_problems({"clientToken": "attempt-1", **document["request"]}) == []
    else:
        assert all(isinstance(arg, str) and "\x00" not in arg for arg in document["argv"])
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in document["env"].items())


def refused_or_valid(job: Any, profile: Any, target: Target, crd: Draft7Validator) -> dict[str, Any] | None:
    """Prepare, then check the document and the explanation; None when refused with SpecError."""
    try:
        prepared = prepare(job, profile, target=target)
    except SpecError as error:
        assert error.problems and all(str(problem) for problem in error.problems)
        return None
    check_document(target, prepared.document, crd)
    assert explain(prepared.job, target)
    return prepared.document


def with_labels(job: dict[str, Any]) -> dict[str, Any]:
    """Required labels present unless the example sets its own (mostly near-valid jobs)."""
    return {**job, "labels": {**LABELS, **job.get("labels", {})}}


NEAR_VALID_JOB = with_labels(
    {
        "name": "compact-events",
        "tenant": "datalake",
        "main_application_file": "s3://example-artifacts/jobs/compact_table.py",
        "executor": {"cores": 2, "memory": "4g", "instances": 3},
    }
)


# --- job files: the YAML text path ------------------------------------------------------------------------

EDGE_LINES = [
    "arguments: &a [x, *a]",  # a list that contains itself
    "spark_conf: &c {spark.x: *c}",
    "env: &e {A: &f [*e, *f]}",
    "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol]\nx1: &x1 [*x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0]\n"
    "x2: &x2 [*x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1]\narguments: [*x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2]",
    "<<: {tenant: analytics, image: docker.io/evil/spark}",  # YAML merge key
    "executor: {instances: 0x7fffffff}",
    "executor: {memory: .inf}",
    "timeout: .nan",
    "driver: !!binary aGVsbG8=",
    "labels: !!set {team, cost-center}",
    "name: !!str 12345",
    "tenant: [datalake]",
    "tenant: analytics\ntenant: datalake",  # duplicate keys: the last wins
    "spark_conf: {spark.kubernetes.namespace: analytics}",
    "? [not, hashable]\n: value",
    "env: {AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY}",
    "main_application_file: !!python/object:os.system echo",
    'arguments: ["\\u202e", "\\0", "\\U0001F4A5"]',  # right-to-left override, NUL, emoji
    "%YAML 1.1\n---",
    "--- !!map",
]


NEAR_VALID_JOBS = JOBS.map(lambda job: {**NEAR_VALID_JOB, **{k: v for k, v in job.items() if k not in NEAR_VALID_JOB}})
"""One valid job with some of its optional fields drawn: most examples reach the renderers."""


@pytest.mark.parametrize("target", TARGETS)
def test_job_files(tmp_path_factory: pytest.TempPathFactory, crd_validator: Draft7Validator, target: Target) -> None:
    @SETTINGS
    @given(st.one_of(NEAR_VALID_JOBS, JOBS), st.lists(st.sampled_from(EDGE_LINES), max_size=2), st.booleans())
    def check(job: dict[str, Any], extra: list[str], flow_style: bool) -> None:
        text = yaml.safe_dump(with_labels(job), default_flow_style=flow_style, allow_unicode=True)
        if extra and not flow_style:
            text += "\n".join(extra) + "\n"  # after the job's own keys: YAML keeps the last of duplicate keys
        job_file(tmp_path_factory, crd_validator, target, text)

    check()


def test_any_text_as_a_job_file(tmp_path_factory: pytest.TempPathFactory, crd_validator: Draft7Validator) -> None:
    @SETTINGS
    @given(st.text(max_size=200))
    def check(text: str) -> None:
        job_file(tmp_path_factory, crd_validator, Target.SPARK_OPERATOR, text)

    check()


def job_file(
    tmp_path_factory: pytest.TempPathFactory, crd_validator: Draft7Validator, target: Target, text: str
) -> None:
    """Load `text` as a job file, then prepare it; only SpecError may come out."""
    path = tmp_path_factory.mktemp("jobs") / "job.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        spark_job = SparkJob.from_yaml(path)
    except SpecError as error:
        assert error.problems and all(line for line in error.lines())
        return
    refused_or_valid(spark_job, BASE_PROFILE_MODEL, target, crd_validator)


def test_job_files_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same YAML edges through `airflow-eks-data validate`: exit 0 or 1, never a traceback."""
    monkeypatch.setenv("AIRFLOW_EKS_DATA_NO_AIRFLOW_CONFIG", "1")
    base = yaml.safe_dump(with_labels({"name": "fuzz", "tenant": "datalake", "main_application_file": "s3://a/b.py"}))
    for index, line in enumerate(EDGE_LINES):
        path = tmp_path / f"edge{index}.yaml"
        path.write_text(f"{base}{line}\n" if not line.startswith(("%", "---")) else f"{line}\n{base}")
        with redirect_stderr(io.StringIO()):
            code = main(["validate", str(path), "--profile", str(PROFILE_PATH)], out=io.StringIO())
        assert code in (0, 1), line


# --- profiles ---------------------------------------------------------------------------------------------

TOLERATION = st.fixed_dictionaries(
    {},
    optional={
        "key": st.one_of(NAMEISH, TEXT),
        "operator": st.sampled_from(["Equal", "Exists", "Gt"]),
        "value": TEXT,
        "effect": st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute", "Evict"]),
    },
)
ROLE_PLACEMENT = st.fixed_dictionaries(
    {},
    optional={
        "capacity": st.sampled_from(["spot", "on-demand", "reserved"]),
        "arch": st.sampled_from(["arm64", "amd64", "riscv"]),
        "min_local_nvme_gb": st.one_of(HUGE, st.integers(1, 10_000)),
        "node_pool": st.one_of(NAMEISH, TEXT),
        "node_selector": st.dictionaries(st.one_of(NAMEISH, TEXT), st.one_of(NAMEISH, TEXT), max_size=2),
        "tolerations": st.lists(TOLERATION, max_size=2),
    },
)
TENANT = st.fixed_dictionaries(
    {"namespace": NAMEISH, "service_account": NAMEISH},
    optional={
        "max_executors": st.one_of(COUNT, HUGE),
        "max_executor_memory": MEMORY,
        "max_driver_memory": MEMORY,
        "max_executor_cores": st.one_of(COUNT, HUGE),
        "allowed_images": st.lists(
            st.one_of(st.just("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), TEXT), max_size=2
        ),
        "required_labels": st.lists(st.one_of(st.just("team"), TEXT), max_size=2),
        "locked_spark_conf": st.lists(st.one_of(st.just("spark.sql.*"), TEXT), max_size=2),
        "spark_conf": st.dictionaries(CONF_KEY, TEXT, max_size=2),
        "env": st.dictionaries(st.one_of(st.from_regex(r"[A-Z_]{1,12}", fullmatch=True), TEXT), TEXT, max_size=2),
        "labels": st.dictionaries(NAMEISH, NAMEISH, max_size=2),
        "emr": st.fixed_dictionaries({"virtual_cluster_id": st.one_of(NAMEISH, TEXT), "execution_role_arn": TEXT}),
    },
)
PROFILES = st.fixed_dictionaries(
    {},
    optional={
        "image": st.one_of(st.just(BASE_PROFILE["image"]), TEXT),
        "spark_version": st.one_of(st.just("3.5.1"), TEXT),
        "driver": resources(False),
        "executor": resources(True),
        "spark_conf": st.dictionaries(CONF_KEY, TEXT, max_size=3),
        "hadoop_conf": st.dictionaries(TEXT, TEXT, max_size=2),
        "env": st.dictionaries(st.one_of(st.from_regex(r"[A-Z_]{1,12}", fullmatch=True), TEXT), TEXT, max_size=2),
        "placement": st.fixed_dictionaries(
            {}, optional={"driver": ROLE_PLACEMENT, "executor": ROLE_PLACEMENT, "same_zone": st.booleans()}
        ),
        "local_storage": st.fixed_dictionaries(
            {},
            optional={
                "default": st.sampled_from(["nvme", "ebs", "none", "tmpfs"]),
                "nvme": st.fixed_dictionaries(
                    {"host_path": PATHISH},
                    optional={
                        "mount_path": PATHISH,
                        "roles": st.lists(st.sampled_from(["driver", "executor", "master"]), max_size=2),
                    },
                ),
                "ebs": st.fixed_dictionaries(
                    {}, optional={"storage_class": NAMEISH, "size": MEMORY, "mount_path": PATHISH}
                ),
                "ephemeral_storage": st.fixed_dictionaries({"request": QUANTITY, "limit": QUANTITY}),
            },
        ),
        # Out of int64 range is pinned below (test_ttl_beyond_int64), not drawn here.
        "time_to_live_seconds": st.one_of(st.none(), st.integers(-5, 10**12)),
        "allowed_images": st.lists(
            st.one_of(st.just("123456789012.dkr.ecr.eu-west-1.amazonaws.com/"), TEXT), max_size=2
        ),
        "locked_spark_conf": st.lists(st.one_of(st.just("spark.sql.*"), TEXT), max_size=3),
        "emr": st.fixed_dictionaries(
            {},
            optional={
                "release_label": st.one_of(st.just("emr-7.5.0-latest"), TEXT),
                "pod_template_s3_prefix": st.one_of(st.just("s3://example-artifacts/pt"), TEXT, st.none()),
                "tags": st.dictionaries(TEXT, TEXT, max_size=3),
                "monitoring": st.fixed_dictionaries(
                    {},
                    optional={
                        "cloudwatch_log_group": st.one_of(st.just("/emr/x"), TEXT),
                        "log_stream_prefix": TEXT,
                        "s3_log_uri": st.one_of(st.just("s3://logs/x/"), TEXT),
                        "container_log_rotation_size": TEXT,
                        "container_log_max_files": st.one_of(COUNT, HUGE),
                    },
                ),
            },
        ),
        "tenants": st.dictionaries(st.sampled_from(["datalake", "analytics", "new"]), TENANT, max_size=2),
    },
)


FEW_PROFILE_OVERRIDES = PROFILES.map(lambda overrides: dict(list(overrides.items())[:2]))
"""At most two fields changed: most examples load, so the renderers see them."""


def merged_profile(overrides: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASE_PROFILE)
    for key, value in overrides.items():
        if key == "tenants":
            for name, tenant in value.items():
                data["tenants"][name] = {**data["tenants"].get(name, {}), **tenant}
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


@pytest.mark.parametrize("target", TARGETS)
def test_profiles(crd_validator: Draft7Validator, target: Target) -> None:
    @SETTINGS
    @given(st.one_of(FEW_PROFILE_OVERRIDES, PROFILES), st.sampled_from(["datalake", "analytics", "new"]))
    def check(overrides: dict[str, Any], tenant: str) -> None:
        try:
            profile = PlatformProfile.from_dict(merged_profile(overrides))
        except SpecError as error:
            assert error.problems
            return
        refused_or_valid({**NEAR_VALID_JOB, "tenant": tenant}, profile, target, crd_validator)

    check()


# --- the guardrails' key matching ---------------------------------------------------------------------------

PROTECTED_KEYS = [
    "spark.kubernetes.namespace",
    "spark.kubernetes.authenticate.driver.serviceAccountName",
    "spark.kubernetes.driver.podTemplateFile",
    "spark.kubernetes.executor.pod.featureSteps",
    "spark.kubernetes.driver.annotation.iam.amazonaws.com/role",
    "spark.kubernetes.executor.volumes.hostPath.x.options.path",
    "spark.kubernetes.container.image",
    "spark.executor.instances",
    "spark.executor.memoryOverheadFactor",
    "spark.executorEnv.AWS_ROLE_ARN",
    "spark.decommission.enabled",
    "spark.hadoop.fs.s3a.aws.credentials.provider",
    "spark.hadoop.fs.s3a.bucket.other.aws.credentials.provider",
]
WHITESPACE = st.sampled_from(["", " ", "\t", "\n", "\u00a0", "\u2003", "\u3000"])


@SETTINGS
@given(st.sampled_from(PROTECTED_KEYS), st.lists(st.booleans(), min_size=80, max_size=80), WHITESPACE, WHITESPACE)
def test_protected_keys_in_any_spelling_are_refused(key: str, upper: list[bool], before: str, after: str) -> None:
    spelled = before + "".join(c.upper() if flip else c.lower() for c, flip in zip(key, upper, strict=False)) + after
    with pytest.raises(SpecError) as caught:
        prepare({**NEAR_VALID_JOB, "spark_conf": {spelled: "x"}}, BASE_PROFILE_MODEL)
    assert any(p.path.startswith("spark_conf") for p in caught.value.problems), caught.value.lines()


# --- the secret finder and error messages ----------------------------------------------------------------------

SCALARS = st.one_of(
    TEXT,
    st.sampled_from(
        ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "--password", "token=abcdefgh"]
    ),
    HUGE,
    st.integers(10**4299, 10**4299 + 1),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
)
KEYS = st.one_of(TEXT, st.sampled_from(["password", "fs.s3a.secret.key", "AWS_SESSION_TOKEN", "x"]))
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)


def _tie_knots(tree: Any, knots: list[int]) -> Any:
    """Make some containers refer to each other or to themselves, as YAML aliases can."""
    containers: list[Any] = []

    def collect(node: Any) -> None:
        if isinstance(node, list | dict):
            containers.append(node)
            for child in node.values() if isinstance(node, dict) else node:
                collect(child)

    collect(tree)
    for index, knot in enumerate(knots):
        if len(containers) < 2:
            break
        source, target = containers[knot % len(containers)], containers[(knot + index) % len(containers)]
        if isinstance(source, list):
            source.append(target)
        else:
            source[f"alias{index}"] = target
    return tree


@SETTINGS
@given(TREES, st.lists(st.integers(0, 50), max_size=3), TEXT)
def test_secret_finder_and_messages_are_total(tree: Any, knots: list[int], path: str) -> None:
    tree = _tie_knots(tree, knots)
    secrets = [s.value for s in find_secrets(tree)]
    redacted = redact(tree, secrets)
    assert isinstance(redacted, type(tree))
    if not knots:  # a plain tree: no found secret of maskable length survives anywhere in the copy
        leftover = [s for s in secrets if len(s) >= MIN_LENGTH and MASK not in s and s in repr(redacted)]
        assert leftover == []
    shown = str(Problem(path, tree, "rule"))
    assert len(shown) <= len(path) + len("rule") + 130


# --- pinned: bugs outside the modules this suite owns (see docs/security.md, "Fuzzing") ----------------------


@pytest.mark.parametrize("scalar", ["!!timestamp 2026-02-30", "9" * 5000], ids=["impossible-date", "5000-digit-int"])
def test_yaml_scalars_that_python_cannot_build(tmp_path: Path, scalar: str) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(f"name: a\ntenant: datalake\nmain_application_file: s3://a/b.py\narguments: [{scalar}]\n")
    with pytest.raises(SpecError):
        SparkJob.from_yaml(path)


def test_ttl_beyond_int64(crd_validator: Draft7Validator) -> None:
    try:
        profile = PlatformProfile.from_dict({**BASE_PROFILE, "time_to_live_seconds": 2**63})
    except SpecError:
        return
    assert refused_or_valid(NEAR_VALID_JOB, profile, Target.SPARK_OPERATOR, crd_validator) is None


@pytest.mark.parametrize("template", ["https://x/{job}", "https://x/{0}", "https://x/{", "https://x/{name.real}"])
def test_ui_templates_are_checked_when_loaded(template: str) -> None:
    from airflow_eks_data.links.urls import link_urls

    try:
        profile = PlatformProfile.from_dict({**BASE_PROFILE, "ui": {"spark_ui_url": template}})
    except SpecError:
        return
    link_urls({"spark_ui": profile.ui.spark_ui_url}, namespace="ns", name="app", app_id="id", region="eu-west-1")


@pytest.mark.parametrize("field", ["arguments", "env", "spark_conf"])
def test_nul_characters_are_refused(field: str) -> None:
    """No process can receive a NUL in an argument or environment value: spark-submit and the pods' exec
    would fail after submission, so validation should refuse it."""
    value: Any = {"arguments": ["a\x00b"], "env": {"X": "a\x00b"}, "spark_conf": {"spark.x": "a\x00b"}}[field]
    try:
        prepare({**NEAR_VALID_JOB, field: value}, BASE_PROFILE_MODEL, target="local")
    except SpecError:
        return
    raise AssertionError(f"a NUL character in {field} was accepted")


def test_python_limits_do_not_leak_into_messages() -> None:
    assert sys.get_int_max_str_digits() > 0  # the limit the 5000-digit cases run into is on
    assert "too large to show" in str(Problem("executor.instances", 10**5000, "rule"))
