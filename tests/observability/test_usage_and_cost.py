"""Usage read from real-shaped evidence, and the cost estimate on a fixture worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.jobspec.cost import CostSettings, Rate
from airflow_eks_data.observability.cost import estimate, pod_memory_gb, rate_for
from airflow_eks_data.observability.usage import Usage, usage_of
from airflow_eks_data.resolve import resolve
from airflow_eks_data.resolve.resolved import Resources

SPOT_NODE = {"karpenter.sh/capacity-type": "spot", "karpenter.k8s.aws/instance-family": "r7gd"}


def spark_operator_evidence(**extra: Any) -> dict[str, Any]:
    last = {
        "applicationState": {"state": "COMPLETED"},
        "lastSubmissionAttemptTime": "2026-11-23T10:00:00Z",
        "terminationTime": "2026-11-23T10:10:00Z",
        "executorState": {f"app-exec-{i}": "COMPLETED" for i in range(1, 5)},
    }
    return {"kind": "spark_operator", "snapshots": [{"applicationState": {"state": "RUNNING"}}, last], **extra}


def test_spark_operator_usage_with_the_driver_pod() -> None:
    pod = {"status": {"startTime": "2026-11-23T10:01:30Z"}}
    usage = usage_of(spark_operator_evidence(driver_pod=pod, node_labels=SPOT_NODE))
    assert usage == Usage(queued_s=90.0, running_s=510.0, executors=4, driver_capacity="spot", driver_family="r7gd")


def test_spark_operator_usage_without_the_driver_pod_counts_from_submission() -> None:
    usage = usage_of(spark_operator_evidence())
    assert (usage.queued_s, usage.running_s, usage.executors) == (None, 600.0, 4)


def test_emr_usage_and_evidence_without_times() -> None:
    run = {"state": "COMPLETED", "createdAt": "2026-11-23T10:00:00+00:00", "finishedAt": "2026-11-23T10:05:00+00:00"}
    assert usage_of({"kind": "emr_on_eks", "job_run": run}).running_s == 300.0
    assert usage_of({"kind": "timed_out", "timeout_seconds": 5}) == Usage(None, None, None, None, None)


def test_pod_memory_includes_spark_default_overhead() -> None:
    assert pod_memory_gb(Resources(1, "2g", None)) == pytest.approx(2.375)  # 2 GiB + 384 MiB minimum
    assert pod_memory_gb(Resources(4, "16g", "2g")) == pytest.approx(18.0)
    assert pod_memory_gb(Resources(4, "40g", None)) == pytest.approx(44.0)  # 10%


def test_rates_are_matched_most_specific_first() -> None:
    rates = [
        Rate(capacity="spot", instance_family="r7gd", vcpu_hour=0.01),
        Rate(capacity="spot", vcpu_hour=0.02),
        Rate(vcpu_hour=0.05),
    ]
    assert rate_for(rates, "spot", "r7gd") is rates[0]
    assert rate_for(rates, "spot", "m7g") is rates[1]
    assert rate_for(rates, "on-demand", None) is rates[2]
    assert rate_for(rates[:2], "on-demand", None) is None


def test_cost_of_an_interrupted_then_successful_run(profile: PlatformProfile, job: SparkJob) -> None:
    resolved = resolve(job, profile)
    settings = CostSettings(
        currency="EUR",
        rates=[Rate(capacity="on-demand", vcpu_hour=0.04, gb_hour=0.005), Rate(capacity="spot", vcpu_hour=0.015)],
    )
    hour = 3600.0
    attempts = [
        Usage(None, hour / 2, 2, "on-demand", None),  # interrupted after half an hour: still paid for
        Usage(60.0, hour, None, None, None),  # executors unknown: the configured count
    ]
    cost = estimate(resolved, attempts, settings)
    assert cost is not None
    driver, executor = resolved.driver, resolved.executor
    driver_hour = driver.cores * 0.04 + pod_memory_gb(driver) * 0.005
    executor_hour = executor.cores * 0.015  # the spot rate prices no memory
    expected = 1.5 * driver_hour + (0.5 * 2 + 1.0 * resolved.executor_instances) * executor_hour
    assert cost.amount == pytest.approx(expected, rel=1e-5)
    assert cost.currency == "EUR" and cost.unpriced == ()
    assert cost.vcpu_hours == pytest.approx(1.5 * driver.cores + (1 + resolved.executor_instances) * executor.cores)


def test_cost_names_what_it_could_not_price(profile: PlatformProfile, job: SparkJob) -> None:
    resolved = resolve(job, profile)
    cost = estimate(
        resolved, [Usage(None, None, None, None, None)], CostSettings(rates=[Rate(capacity="spot", vcpu_hour=1)])
    )
    assert cost is not None and cost.amount == 0 and cost.unpriced == ("attempt 1: no run time",)
    cost = estimate(
        resolved, [Usage(None, 3600, 1, None, None)], CostSettings(rates=[Rate(capacity="spot", vcpu_hour=1)])
    )
    assert cost is not None and cost.unpriced == ("attempt 1: driver (on-demand, any family)",)
    assert estimate(resolved, [], CostSettings()) is None
