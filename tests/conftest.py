"""Shared fixtures: the repository's example job and profile, and the pinned reference files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_eks_data.jobspec import PlatformProfile, SparkJob

pytest_plugins = ["tests.kubeapi.fixtures", "tests.emr.fixtures"]

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "dags_examples"
PROFILE_PATH = EXAMPLES / "profiles" / "compaction.yaml"
JOB_PATH = EXAMPLES / "jobs" / "compact_events.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def reference_file(env: str, relative: str = "") -> Path:
    """A file of the shared reference set, found through an environment variable that `make test` sets;
    tests that need it skip with the reason when it is not there."""
    value = os.environ.get(env)
    if not value:
        pytest.skip(f"{env} is not set (make test sets it to ../shared/reference/...)")
    path = Path(value) / relative
    if not path.exists():
        pytest.skip(f"{path} does not exist ({env})")
    return path


@pytest.fixture
def crd_path() -> Path:
    return reference_file("SPARK_OPERATOR_CRD")


@pytest.fixture
def reference_dir() -> Path:
    return reference_file("EKS_DATA_REFERENCE")


@pytest.fixture(scope="session")
def profile() -> PlatformProfile:
    return PlatformProfile.from_yaml(PROFILE_PATH)


@pytest.fixture(scope="session")
def job() -> SparkJob:
    return SparkJob.from_yaml(JOB_PATH)
