"""The CLI as users run it: in-process through `main()`, and once through the installed console script."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from airflow_eks_data.cli import main
from tests.conftest import EXAMPLES, FIXTURES, JOB_PATH, PROFILE_PATH

PROFILE = str(PROFILE_PATH)


@pytest.fixture(autouse=True)
def _no_airflow_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_EKS_DATA_NO_AIRFLOW_CONFIG", "1")
    monkeypatch.delenv("AIRFLOW__EKS_DATA__PROFILES_DIR", raising=False)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.mark.parametrize("target", ["spark-operator", "emr-on-eks", "local"])
def test_render_each_target(target: str) -> None:
    code, out = run("render", str(JOB_PATH), "--profile", PROFILE, "--target", target)
    assert code == 0
    document = yaml.safe_load(out)
    key = {"spark-operator": "spec", "emr-on-eks": "request", "local": "argv"}[target]
    assert key in document


def test_render_json_and_profile_by_name() -> None:
    code, out = run(
        "render",
        str(JOB_PATH),
        "-p",
        "compaction",
        "--profiles-dir",
        str(EXAMPLES / "profiles"),
        "-o",
        "json",
    )
    assert code == 0
    assert json.loads(out)["kind"] == "SparkApplication"


def test_jinja_placeholders_are_left_as_they_are() -> None:
    code, out = run("render", str(EXAMPLES / "jobs/compact_table.yaml"), "-p", PROFILE)
    assert code == 0
    assert "{{ params.table }}" in yaml.safe_load(out)["spec"]["arguments"]


def test_validate_ok_and_with_crd(crd_path: Path) -> None:
    code, out = run("validate", str(JOB_PATH), "-p", PROFILE, "--crd", str(crd_path))
    assert code == 0
    assert "valid for spark_operator" in out


def test_validate_prints_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(JOB_PATH.read_text().replace("memory: 8g", "memory: 8gb").replace("instances: 10", "instances: 900"))
    code, out = run("validate", str(bad), "-p", PROFILE)
    assert code == 1
    assert out.splitlines() == [f"{bad}: executor.memory: '8gb': " + out.splitlines()[0].split("'8gb': ", 1)[1]]
    bad.write_text(
        JOB_PATH.read_text().replace("instances: 10", "instances: 900").replace("cc-42}", "cc-42, x: {{y}}}")
    )
    code, out = run("validate", str(bad), "-p", PROFILE)
    assert code == 1 and len(out.splitlines()) >= 1


def test_validate_reports_all_guardrails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(JOB_PATH.read_text().replace("instances: 10", "instances: 900") + "image: docker.io/x:1\n")
    code, out = run("validate", str(bad), "-p", PROFILE)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert any("executor.instances: 900: max-executors" in line for line in lines)
    assert any("image: 'docker.io/x:1': allowed-image" in line for line in lines)


def test_explain_names_the_layers() -> None:
    code, out = run("explain", str(JOB_PATH), "-p", PROFILE)
    assert code == 0
    rows = {line.split()[0]: line.rsplit("<- ", 1)[1] for line in out.splitlines()}
    assert rows["spec.executor.memory"] == "job:compact-events"
    assert rows["spec.sparkConf[spark.decommission.enabled]"] == "profile:compaction"
    assert rows["spec.driver.serviceAccount"] == "tenant:datalake"


def test_emr_serverless_through_the_cli(tmp_path: Path) -> None:
    code, out = run("render", str(JOB_PATH), "-p", PROFILE, "--target", "emr_serverless", "-o", "json")
    assert code == 0
    request = json.loads(out)["request"]
    assert request["applicationId"] == "00fexampledatalake" and "clientToken" not in request
    code, out = run("validate", str(JOB_PATH), "-p", PROFILE, "--target", "emr_serverless")
    assert code == 0 and "valid for emr_serverless" in out
    code, out = run("explain", str(JOB_PATH), "-p", PROFILE, "--target", "emr_serverless")
    rows = {line.split()[0]: line.rsplit("<- ", 1)[1] for line in out.splitlines()}
    assert code == 0 and rows["applicationId"] == "tenant:datalake"
    assert rows["jobDriver.sparkSubmit.entryPoint"] == "job:compact-events"
    bad = tmp_path / "bad.yaml"
    bad.write_text(JOB_PATH.read_text() + "spark_conf: {spark.emr-serverless.executor.disk: 2000G}\n")
    code, out = run("validate", str(bad), "-p", PROFILE, "--target", "emr_serverless")
    assert code == 1 and "spark_conf[spark.emr-serverless.executor.disk]: '2000G': platform-key" in out


def test_tenant_option_supplies_a_missing_tenant(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text(JOB_PATH.read_text().replace("tenant: datalake\n", ""))
    assert run("render", str(job), "-p", PROFILE)[0] == 1
    assert run("render", str(job), "-p", PROFILE, "--tenant", "datalake")[0] == 0


def test_profiles_list_and_show() -> None:
    directory = str(FIXTURES / "profiles")
    code, out = run("profiles", "list", "--profiles-dir", directory)
    assert code == 0 and "graviton-nvme" in out
    code, out = run("profiles", "show", "graviton-nvme", "--profiles-dir", directory)
    assert code == 0 and yaml.safe_load(out)["name"] == "graviton-nvme"


def test_console_script_runs_without_importing_airflow(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "airflow-eks-data"
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import runpy, sys\n"
        f"sys.argv = ['airflow-eks-data', 'validate', {str(JOB_PATH)!r}, '-p', {PROFILE!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(script)!r}, run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "assert 'airflow.configuration' not in sys.modules and 'kubernetes' not in sys.modules\n"
    )
    env = {**os.environ, "AIRFLOW_EKS_DATA_NO_AIRFLOW_CONFIG": "1"}
    result = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert "valid for spark_operator" in result.stdout


def test_credentials_are_masked_in_profiles_show_and_render(tmp_path: Path) -> None:
    """A profile or job may carry credentials; what the CLI prints does not."""
    secret, key_id = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAIOSFODNN7EXAMPLE"
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile["hadoop_conf"] = {"fs.s3a.secret.key": secret}
    profile["tenants"]["datalake"]["env"] = {"SOURCE_ID": key_id}
    (tmp_path / "compaction.yaml").write_text(yaml.safe_dump(profile))
    code, shown = run("profiles", "show", "compaction", "--profiles-dir", str(tmp_path))
    assert code == 0 and "'***'" in shown
    code, rendered = run("render", str(JOB_PATH), "-p", "compaction", "--profiles-dir", str(tmp_path))
    assert code == 0 and "'***'" in rendered
    assert secret not in shown + rendered and key_id not in shown + rendered


def test_target_spellings(capsys: pytest.CaptureFixture[str]) -> None:
    """`--target` takes the backend names used everywhere else; the first, dashed spelling still works, with
    a deprecation note on stderr."""
    code, canonical = run("render", str(JOB_PATH), "-p", PROFILE, "--target", "spark_operator")
    assert code == 0 and "deprecated" not in capsys.readouterr().err
    code, dashed = run("render", str(JOB_PATH), "-p", PROFILE, "--target", "spark-operator")
    assert code == 0 and dashed == canonical
    assert "--target spark-operator is deprecated: write --target spark_operator" in capsys.readouterr().err


def test_target_name_warns_on_the_dashed_spelling() -> None:
    from airflow_eks_data.backends.registry import backend_name as target_name
    from airflow_eks_data.errors import SpecError
    from airflow_eks_data.targets import Target

    assert target_name("emr_on_eks") is Target.EMR_ON_EKS
    with pytest.warns(DeprecationWarning, match="write 'emr_on_eks'"):
        assert target_name("emr-on-eks") is Target.EMR_ON_EKS
    with pytest.raises(SpecError, match="one of spark_operator, emr_on_eks, emr_serverless, local"):
        target_name("yarn")


def test_platform_render_yaml_stream_applies_in_order() -> None:
    code, out = run("platform", "render", PROFILE)
    assert code == 0
    documents = [doc for doc in yaml.safe_load_all(out) if doc]
    kinds = [doc["kind"] for doc in documents]
    assert kinds[:2] == ["ClusterRole", "ClusterRoleBinding"]
    assert {("Namespace", "datalake"), ("Namespace", "analytics")} <= {
        (d["kind"], d["metadata"]["name"]) for d in documents
    }
    assert out.startswith("# airflow-eks-data platform render: profile compaction, tenants datalake, analytics\n")
    assert "# note: tenant datalake: no iam_role_arn" in out  # notes lead their document as comments


def test_platform_render_one_tenant_as_a_json_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(
        "platform",
        "render",
        "compaction",
        "--profiles-dir",
        str(EXAMPLES / "profiles"),
        "-t",
        "analytics",
        "--format",
        "json",
    )
    assert code == 0
    listed = json.loads(out)
    assert (listed["apiVersion"], listed["kind"]) == ("v1", "List")
    assert {item["metadata"].get("namespace") for item in listed["items"]} <= {None, "analytics", "yunikorn"}
    assert "note: tenant analytics: no iam_role_arn" in capsys.readouterr().err


def test_platform_render_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("platform", "render", PROFILE, "--tenant", "nope") == (1, "")
    assert "tenant: 'nope': unknown-tenant" in capsys.readouterr().err
    assert run("platform", "render", PROFILE, "--karpenter-crds", str(tmp_path))[0] == 1
    assert "--karpenter-crds" in capsys.readouterr().err
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile["tenants"] = {"lake!": profile["tenants"]["analytics"]}  # a name no tenant label can carry
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(profile))
    code, out = run("platform", "render", str(bad))
    assert (code, out) == (1, "")  # nothing printed that could be half-applied
    assert (
        "Namespace/analytics.metadata.labels[airflow-eks-data/tenant]: 'lake!': core-object:" in capsys.readouterr().err
    )


def test_platform_render_validates_karpenter_objects(reference_dir: Path, tmp_path: Path) -> None:
    profile = yaml.safe_load(PROFILE_PATH.read_text())
    profile["karpenter"] = {"node_role": "nodes", "subnet_tags": {"k": "v"}, "security_group_tags": {"k": "v"}}
    path = tmp_path / "karpenter.yaml"
    path.write_text(yaml.safe_dump(profile))
    code, out = run("platform", "render", str(path), "--karpenter-crds", str(reference_dir / "karpenter" / "v1.14.1"))
    assert code == 0
    assert {"NodePool", "EC2NodeClass"} <= {doc["kind"] for doc in yaml.safe_load_all(out) if doc}
