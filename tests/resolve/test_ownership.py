"""`ownership`: one answer per key, whatever its spelling."""

from __future__ import annotations

import pytest

from airflow_eks_data.resolve.ownership import (
    Owner,
    canonical_keys,
    conf_claim,
    env_claim,
    java_option_problems,
    label_claim,
)


@pytest.mark.parametrize(
    ("key", "hadoop", "rule"),
    [
        ("spark.kubernetes.namespace", False, "platform-key"),
        ("  SPARK.Kubernetes.Namespace ", False, "platform-key"),
        ("spark.kubernetes.anything.added.next.year", False, "platform-key"),
        ("fs.s3a.aws.credentials.provider", True, "platform-key"),
        ("fs.s3a.bucket.my.dotted.bucket.endpoint", True, "platform-key"),
        ("spark.sql.catalog.x.client.assume-role.arn", False, "platform-key"),
        ("spark.yarn.executor.memoryOverhead", False, "typed-field"),
        ("spark.executorEnv.ANYTHING", False, "typed-field"),
        ("spark.jars", False, "typed-field"),
        ("spark.jars.ivySettings", False, "platform-key"),
        ("spark.emr-serverless.executor.disk", False, "platform-key"),
        ("Spark.EMR-Serverless.Allocation.Batch.Size", False, "platform-key"),
        ("spark.emr-serverless.driverEnv.ANYTHING", False, "typed-field"),
        ("spark.sql.shuffle.partitions", False, ""),
        ("fs.s3a.connection.maximum", True, ""),
    ],
)
def test_conf_claim(key: str, hadoop: bool, rule: str) -> None:
    assert conf_claim(key, hadoop).rule == rule


def test_hadoop_keys_are_spark_hadoop_keys() -> None:
    assert canonical_keys("fs.s3a.bucket.a.b.endpoint", hadoop=True) == (
        "spark.hadoop.fs.s3a.bucket.a.b.endpoint",
        "spark.hadoop.fs.s3a.b.endpoint",
        "spark.hadoop.fs.s3a.endpoint",
    )


def test_locks_allow_lists_and_their_order() -> None:
    locks = [("spark.sql.*", Owner.TENANT)]
    assert conf_claim("spark.sql.x", locked=locks).rule == "locked-key"
    assert conf_claim("spark.sql.x", allow=["spark.other"]).rule == "not-allowed"
    assert conf_claim("spark.sql.x", allow=["SPARK.SQL.*"]).owner is Owner.JOB
    # An allow-list never grants what the platform owns.
    assert conf_claim("spark.kubernetes.namespace", allow=["*"]).rule == "platform-key"


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ("-XX:+UseG1GC -XX:MaxGCPauseMillis=200 -Xss4m -Xlog:gc*:stdout -verbose:gc -Dfile.encoding=UTF-8", 0),
        ("-Dspark.kubernetes.namespace=x", 1),
        ("-XX:OnOutOfMemoryError=kill -javaagent:/a.jar @args", 3),
        ("-Dcom.example.flag=1", 1),
        ("'unbalanced", 1),
    ],
)
def test_java_options(options: str, refused: int) -> None:
    assert len(java_option_problems(options)) == refused
    assert not java_option_problems("-Dcom.example.flag=1", safe_properties=["com.example.*"])


@pytest.mark.parametrize(
    ("name", "owner"), [("AWS_ROLE_ARN", Owner.PLATFORM), ("https_proxy", Owner.PLATFORM), ("APP_MODE", Owner.JOB)]
)
def test_env_claim(name: str, owner: Owner) -> None:
    assert env_claim(name).owner is owner


@pytest.mark.parametrize(
    ("key", "owner"),
    [
        ("team", Owner.JOB),
        ("app.kubernetes.io/name", Owner.JOB),
        ("example.com/owner", Owner.JOB),
        ("spark-app-selector", Owner.PLATFORM),
        ("node.kubernetes.io/instance-type", Owner.PLATFORM),
        ("scheduling.k8s.io/group", Owner.PLATFORM),
        ("emr-containers.amazonaws.com/x", Owner.PLATFORM),
        ("karpenter.sh/nodepool", Owner.PLATFORM),
        ("airflow-eks-data/app", Owner.PLATFORM),
    ],
)
def test_label_claim(key: str, owner: Owner) -> None:
    assert label_claim(key).owner is owner
