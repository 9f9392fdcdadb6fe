"""Jobs an engineer may write render on every backend, with the platform's and the tenant's values intact:
the other half of the refusal matrix, so that it cannot pass by refusing everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_eks_data.jobspec import SparkJob
from airflow_eks_data.pipeline import prepare
from tests.security.test_tenant_isolation import TARGETS, job_of, profile_of

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "legitimate.yaml").read_text())


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 20
    assert len({case["id"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_renders(case: dict[str, Any], target: str, tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job_of(case), allow_unicode=True))
    profile = profile_of(case)
    prepared = prepare(SparkJob.from_yaml(path), profile, target=target)
    tenant = profile.tenants[prepared.job.tenant_name]
    document = prepared.document
    if target == "spark_operator":
        assert document["metadata"]["namespace"] == tenant.namespace
        for role in ("driver", "executor"):
            assert document["spec"][role]["serviceAccount"] == tenant.service_account
        assert document["spec"]["image"] == profile.image
    elif target == "emr_on_eks":
        assert tenant.emr is not None
        assert document["request"]["virtualClusterId"] == tenant.emr.virtual_cluster_id
        assert document["request"]["executionRoleArn"] == tenant.emr.execution_role_arn
    elif target == "emr_serverless":
        assert tenant.emr_serverless is not None
        assert document["request"]["applicationId"] == tenant.emr_serverless.application_id
        assert document["request"]["executionRoleArn"] == tenant.emr_serverless.execution_role_arn
    else:
        argv = document["argv"]
        assert argv[argv.index("--master") + 1] == profile.local_master
        assert argv[len(argv) - len(prepared.job.arguments) - 1] == prepared.job.main_application_file


@pytest.mark.parametrize("target", ["spark_operator", "emr_on_eks"])
def test_the_tenants_pinned_priority_class_is_on_every_pod(target: str) -> None:
    """A tenant-owned value no job field reaches (its Spark spellings are all under `spark.kubernetes.`)."""
    case = next(case for case in CASES if case["id"] == "tenant-analytics-pinned-repeated")
    document = prepare(job_of(case), profile_of(case), target=target).document
    if target == "spark_operator":
        pods = [document["spec"][role]["template"] for role in ("driver", "executor")]
    else:
        pods = list(document["podTemplates"].values())
    assert [pod["spec"]["priorityClassName"] for pod in pods] == ["analytics-batch", "analytics-batch"]
