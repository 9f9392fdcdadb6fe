"""The installed distribution: cheap to import, registered with Airflow, provider info valid and in sync."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import airflow_eks_data
from airflow_eks_data.get_provider_info import get_provider_info

HEAVY = ("kubernetes", "kubernetes_asyncio", "boto3", "botocore", "pyspark", "airflow", "pydantic")
PACKAGE = Path(airflow_eks_data.__file__).parent


def test_import_pulls_in_no_heavy_dependency() -> None:
    code = f"import sys, airflow_eks_data; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_public_names_load_on_first_use() -> None:
    assert airflow_eks_data.SparkJob.__name__ == "SparkJob"
    assert airflow_eks_data.PlatformProfile.__name__ == "PlatformProfile"
    assert issubclass(airflow_eks_data.SpecError, ValueError)


def test_entry_point_is_registered() -> None:
    found = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_eks_data")]
    assert [ep.load()()["package-name"] for ep in found] == ["airflow-eks-data"]


def test_provider_info_matches_airflows_schema() -> None:
    import airflow
    import jsonschema

    schema_path = Path(str(airflow.__file__)).parent / "provider_info.schema.json"
    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))


def test_provider_info_lists_every_airflow_module() -> None:
    """Every module defining a hook, operator, sensor, trigger or link is registered, and only those."""
    from airflow.sdk import BaseHook, BaseOperator, BaseOperatorLink
    from airflow.triggers.base import BaseTrigger

    info = get_provider_info()
    listed = {
        module
        for key in ("hooks", "operators", "sensors", "triggers")
        for e in info.get(key, [])
        for module in e["python-modules"]
    }
    listed.update(link.rsplit(".", 1)[0] for link in info.get("extra-links", []))
    bases = (BaseHook, BaseOperator, BaseTrigger, BaseOperatorLink)
    present = set()
    for path in PACKAGE.rglob("*.py"):
        module = importlib.import_module(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if any(
            isinstance(obj, type) and issubclass(obj, bases) and obj.__module__ == module.__name__
            for obj in vars(module).values()
        ):
            present.add(module.__name__)
    assert listed == present


def test_airflow_lists_the_provider(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run(
        [str(airflow), "providers", "list", "-o", "json"], capture_output=True, text=True, env=env, check=True
    )
    providers = json.loads(result.stdout[result.stdout.index("[") :])
    ours = [p for p in providers if p["package_name"] == "airflow-eks-data"]
    assert [p["version"] for p in ours] == [airflow_eks_data.__version__]


SUBPACKAGE_EXPORTS = {
    "operators": ["SparkOnEksOperator"],
    "sensors": ["EmrEksJobRunSensor", "EmrServerlessJobRunSensor", "SparkApplicationSensor"],
    "hooks": [
        "AsyncEmrEksHook",
        "AsyncEmrServerlessHook",
        "AsyncSparkOperatorHook",
        "EmrEksHook",
        "EmrServerlessHook",
        "LocalSparkHook",
        "SparkOperatorHook",
    ],
    "triggers": [
        "EmrEksJobRunTrigger",
        "EmrServerlessJobRunTrigger",
        "ResubmitAfterTrigger",
        "SparkApplicationTrigger",
        "SparkSubmitExitTrigger",
    ],
    "links": ["EmrJobRunLink", "SparkHistoryLink", "SparkUiLink"],
}


def test_subpackages_export_their_classes_lazily() -> None:
    """`from airflow_eks_data.operators import SparkOnEksOperator` works as the module path does, and
    importing a subpackage loads none of its modules until a name is used."""
    for package, names in SUBPACKAGE_EXPORTS.items():
        code = (
            f"import sys, airflow_eks_data.{package} as p; "
            f"print([m for m in sys.modules if m.startswith('airflow_eks_data.{package}.')])"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert result.stdout.strip() == "[]", package
        module = importlib.import_module(f"airflow_eks_data.{package}")
        assert sorted(module.__all__) == names
        for name in names:
            cls = getattr(module, name)
            assert cls.__name__ == name and cls.__module__.startswith(f"airflow_eks_data.{package}.")
