"""`pod_request`: the memory and CPU a pod asks Kubernetes for, as Spark on Kubernetes adds them up."""

from __future__ import annotations

import pytest

from airflow_eks_data.resolve.pod_requests import pod_request


def test_default_overhead_is_a_tenth_with_a_384m_floor() -> None:
    assert (
        pod_request("executor", 4, "16g", None, {}, non_jvm=False).describe() == "18022m (memory 16g + overhead 1638m)"
    )
    assert pod_request("driver", 1, "1g", None, {}, non_jvm=False).describe() == "1408m (memory 1g + overhead 384m)"


def test_python_jobs_default_to_a_larger_factor() -> None:
    assert pod_request("executor", 1, "10g", None, {}, non_jvm=True).describe() == "14g (memory 10g + overhead 4g)"


def test_every_part_counts() -> None:
    conf = {
        "spark.memory.offHeap.enabled": "true",
        "spark.memory.offHeap.size": "16g",
        "spark.executor.pyspark.memory": "2048",
        "spark.kubernetes.executor.limit.cores": "6",
    }
    pod = pod_request("executor", 4, "64g", "16g", conf, non_jvm=False)
    assert pod.describe() == "98g (memory 64g + overhead 16g + offHeap 16g + pyspark 2g)"
    assert pod.cores == 6
    assert pod_request("driver", 1, "4g", None, conf, non_jvm=False).memory_kib == (4096 + 409) * 1024


@pytest.mark.parametrize(
    "conf",
    [
        {"spark.executor.memoryOverheadFactor": "nan"},
        {"spark.memory.offHeap.enabled": "true", "spark.memory.offHeap.size": "lots"},
    ],
)
def test_unreadable_sizes_name_their_key(conf: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="spark"):
        pod_request("executor", 1, "4g", None, conf, non_jvm=False)
