from __future__ import annotations

from pathlib import Path

import pytest

from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.pipeline import prepare
from airflow_eks_data.render.pod_template import APP_LABEL
from airflow_eks_data.render.spark_application import explain_spark_application, render_spark_application
from airflow_eks_data.resolve import resolve
from airflow_eks_data.validate.crd import crd_problems
from tests.conftest import EXAMPLES, FIXTURES


@pytest.mark.parametrize(
    ("job_file", "profile_file"),
    [
        *[(path, EXAMPLES / "profiles/compaction.yaml") for path in sorted((EXAMPLES / "jobs").glob("*.yaml"))],
        (FIXTURES / "graviton_job.yaml", FIXTURES / "profiles/graviton-nvme.yaml"),
    ],
    ids=lambda p: Path(p).stem,
)
def test_every_example_validates_against_the_pinned_crd(job_file: Path, profile_file: Path, crd_path: Path) -> None:
    document = prepare(job_file, profile_file, target="spark_operator").document
    assert crd_problems(document, crd_path) == []


def test_placement_lives_in_pod_templates(job: SparkJob, profile: PlatformProfile) -> None:
    spec = render_spark_application(resolve(job, profile))["spec"]
    for role, capacity in (("driver", "on-demand"), ("executor", "spot")):
        template = spec[role]["template"]
        affinity = template["spec"]["affinity"]
        terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        expressions = {e["key"]: (e["operator"], e["values"]) for e in terms[0]["matchExpressions"]}
        assert expressions["karpenter.sh/capacity-type"] == ("In", [capacity])
        assert expressions["kubernetes.io/arch"] == ("In", ["arm64"])
        zone = affinity["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
        assert zone == {
            "labelSelector": {"matchLabels": {APP_LABEL: "compact-events"}},
            "topologyKey": "topology.kubernetes.io/zone",
        }
        assert template["metadata"]["labels"][APP_LABEL] == "compact-events"
        resources = template["spec"]["containers"][0]["resources"]
        assert resources == {
            "requests": {"ephemeral-storage": "2Gi"},
            "limits": {"ephemeral-storage": "10Gi"},
        }
    nvme = [
        e
        for e in spec["executor"]["template"]["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"][0]["matchExpressions"]
        if e["key"] == "karpenter.k8s.aws/instance-local-nvme"
    ]
    assert nvme == [{"key": "karpenter.k8s.aws/instance-local-nvme", "operator": "Gt", "values": ["300"]}]
    conf = spec["sparkConf"]
    assert conf["spark.kubernetes.executor.volumes.hostPath.spark-local-dir-1.options.path"] == "/mnt/k8s-disks/0"
    assert "spark.kubernetes.driver.volumes.hostPath.spark-local-dir-1.options.path" not in conf


def test_long_names_are_shortened_with_a_stable_hash(job: SparkJob, profile: PlatformProfile) -> None:
    name = "compact-" + "e" * 55
    long_job = SparkJob.from_dict({**job.model_dump(exclude_none=True), "name": name})
    first = render_spark_application(resolve(long_job, profile))["metadata"]["name"]
    assert len(first) <= 47
    assert first == render_spark_application(resolve(long_job, profile))["metadata"]["name"]
    assert len(first + "-ui-svc") <= 63


def test_explain_covers_every_leaf(job: SparkJob, profile: PlatformProfile) -> None:
    resolved = resolve(job, profile)
    rows = explain_spark_application(resolved)
    origins = {path: origin for path, _, origin in rows}
    assert origins["spec.executor.memory"] == "job:compact-events"
    assert origins["spec.sparkConf[spark.decommission.enabled]"] == "profile:compaction"
    assert origins["metadata.namespace"] == "tenant:datalake"
    assert origins["spec.mainApplicationFile"] == "job:compact-events"
    assert len(rows) == _count_leaves(render_spark_application(resolved))


def _count_leaves(node: object) -> int:
    if isinstance(node, dict):
        return sum(_count_leaves(v) for v in node.values())
    if isinstance(node, list):
        return sum(_count_leaves(v) for v in node)
    return 1
