from __future__ import annotations

from pathlib import Path

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile
from airflow_eks_data.jobspec.loading import PROFILES_DIR_ENV
from airflow_eks_data.pipeline import load_profile
from tests.conftest import PROFILE_PATH

ISSUE_PROFILE = """\
name: compaction
backend: spark_operator
image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark:3.5.1-scala2.12-java17-ubuntu
spark_version: 3.5.1
spark_conf: {spark.decommission.enabled: "true"}
placement:
  driver: {capacity: on-demand, arch: arm64}
  executor: {capacity: spot, arch: arm64, min_local_nvme_gb: 300}
  same_zone: true
local_storage:
  nvme: {host_path: /mnt/k8s-disks/0, mount_path: /data1}
  ephemeral_storage: {request: 2Gi, limit: 10Gi}
tenants:
  datalake:
    namespace: datalake
    service_account: spark-datalake
    emr: {virtual_cluster_id: abcdef0123456789, execution_role_arn: "arn:aws:iam::123456789012:role/emr-datalake"}
    max_executors: 200
    max_executor_memory: 64g
    allowed_images: ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/"]
    required_labels: [team, cost-center]
locked_spark_conf: ["spark.kubernetes.authenticate.*", "spark.kubernetes.namespace"]
"""

SEED_DEFAULTS = {
    "spark.decommission.enabled": "true",
    "spark.storage.decommission.enabled": "true",
    "spark.storage.decommission.rddBlocks.enabled": "true",
    "spark.storage.decommission.shuffleBlocks.enabled": "true",
    "spark.storage.decommission.replicationReattemptInterval": "100ms",
    "spark.executor.decommission.killInterval": "120",
    "spark.files.fetchFailure.unregisterOutputOnHost": "true",
    "spark.stage.ignoreDecommissionFetchFailure": "true",
    "spark.shuffle.mapOutput.minSizeForBroadcast": "20480k",
}


def test_the_issue_profile_loads(tmp_path: Path) -> None:
    path = tmp_path / "compaction.yaml"
    path.write_text(ISSUE_PROFILE)
    profile = PlatformProfile.from_yaml(path)
    assert profile.placement.executor.min_local_nvme_gb == 300
    assert profile.tenants["datalake"].max_executor_memory == "64g"


def test_shipped_profile_has_the_seed_defaults(profile: PlatformProfile) -> None:
    conf = profile.spark_conf or {}
    assert {key: conf.get(key) for key in SEED_DEFAULTS} == SEED_DEFAULTS
    assert conf["spark.storage.decommission.fallbackStorage.path"].startswith("s3a://")
    assert profile.placement.driver.capacity == "on-demand"
    assert profile.placement.executor.capacity == "spot"


def test_profiles_are_found_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PROFILES_DIR_ENV, str(PROFILE_PATH.parent))
    assert load_profile("compaction").name == "compaction"
    with pytest.raises(SpecError, match=r"no such profile .* \(known: compaction\)"):
        load_profile("nope")


def test_no_profiles_dir_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROFILES_DIR_ENV, raising=False)
    monkeypatch.setenv("AIRFLOW_EKS_DATA_NO_AIRFLOW_CONFIG", "1")
    with pytest.raises(SpecError, match="profiles_dir"):
        load_profile("compaction")
