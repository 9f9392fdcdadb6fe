"""`batch_scheduler` in the profile and its tenants: who may set what, checked when the profile loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_eks_data.errors import SpecError
from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.jobspec.profile import VOLCANO_QUEUE_RULE, YUNIKORN_QUEUE_RULE


def _profile(batch: dict[str, Any] | None = None, **tenant: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "batch",
        "tenants": {"team-a": {"namespace": "team-a", "service_account": "spark-team-a", **tenant}},
    }
    if batch is not None:
        data["batch_scheduler"] = batch
    return data


def _problems(data: dict[str, Any]) -> list[tuple[str, Any, str]]:
    with pytest.raises(SpecError) as caught:
        PlatformProfile.from_dict(data)
    return [(p.path, p.value, p.rule) for p in caught.value.problems]


def test_a_tenant_fills_what_the_profile_leaves_unset() -> None:
    profile = PlatformProfile.from_dict(
        _profile({"name": "yunikorn", "gang": True}, batch_scheduler={"queue": "root.spark.team-a"})
    )
    assert profile.batch_scheduler is not None and profile.batch_scheduler.queue is None
    tenant = profile.tenants["team-a"].batch_scheduler
    assert tenant is not None and tenant.queue == "root.spark.team-a"


def test_a_tenant_may_repeat_but_not_change_a_profile_value() -> None:
    repeat = {"name": "yunikorn", "queue": "root.spark"}
    PlatformProfile.from_dict(_profile(repeat, batch_scheduler={"queue": "root.spark"}))
    [(path, value, rule)] = _problems(_profile(repeat, batch_scheduler={"queue": "root.other", "gang": True}))
    assert path == "tenants.team-a.batch_scheduler"
    assert value == {"queue": "root.other", "gang": True}
    assert "queue 'root.other' differs from 'root.spark' set by profile 'batch'" in rule
    [(_, _, rule)] = _problems(_profile(repeat, batch_scheduler={"name": "volcano"}))
    assert "name 'volcano' differs from 'yunikorn'" in rule


@pytest.mark.parametrize("queue", ["spark.team-a", "root", "root.", "root..a", "root.a b", "root." + "q" * 65])
def test_yunikorn_queues_are_full_paths_from_root(queue: str) -> None:
    [(path, value, rule)] = _problems(_profile({"name": "yunikorn", "queue": queue}))
    assert (path, value) == ("batch_scheduler.queue", queue)
    assert rule == f"not {YUNIKORN_QUEUE_RULE}"


@pytest.mark.parametrize("queue", ["root.team-a", "Team-A", "team_a", "q" * 64])
def test_volcano_queues_are_dns_labels(queue: str) -> None:
    [(path, _, rule)] = _problems(_profile(batch_scheduler={"name": "volcano", "queue": queue}))
    assert path == "tenants.team-a.batch_scheduler.queue"
    assert rule == f"not {VOLCANO_QUEUE_RULE}"


def test_the_queue_is_checked_against_the_scheduler_another_layer_names() -> None:
    PlatformProfile.from_dict(_profile({"name": "volcano"}, batch_scheduler={"queue": "team-a-batch"}))
    [(path, _, rule)] = _problems(_profile({"name": "volcano"}, batch_scheduler={"queue": "root.team-a"}))
    assert path == "tenants.team-a.batch_scheduler"
    assert rule.startswith("queue 'root.team-a' (set by the tenant): not a Volcano Queue name")


def test_a_queue_that_fits_no_scheduler_is_refused_before_the_name_is_known() -> None:
    [(path, _, rule)] = _problems(_profile({"queue": "Not A Queue"}))
    assert path == "batch_scheduler.queue"
    assert YUNIKORN_QUEUE_RULE in rule and VOLCANO_QUEUE_RULE in rule


def test_some_layer_names_the_scheduler() -> None:
    [(path, _, rule)] = _problems(_profile({"gang": True}))
    assert path == "tenants.team-a.batch_scheduler"
    assert rule.startswith("name: required in the profile's or the tenant's batch_scheduler")
    PlatformProfile.from_dict(_profile({"gang": True}, batch_scheduler={"name": "yunikorn"}))


def test_unknown_schedulers_and_volcano_with_yunikorn_options_are_refused() -> None:
    [(path, value, rule)] = _problems(_profile({"name": "kube-scheduler"}))
    assert (path, value) == ("batch_scheduler.name", "kube-scheduler")
    assert "'yunikorn' or 'volcano'" in rule
    [(path, _, rule)] = _problems(_profile({"name": "volcano", "gang": True, "gang_style": "Soft"}))
    assert path == "batch_scheduler.gang_style" and rule.startswith("YuniKorn only")


def test_the_priority_class_agrees_with_the_tenants_pinned_one() -> None:
    pinned = {"priority_class": "team-a-batch"}
    PlatformProfile.from_dict(_profile({"name": "yunikorn", "priority_class": "team-a-batch"}, pinned=pinned))
    [(path, value, rule)] = _problems(_profile({"name": "yunikorn", "priority_class": "platform-batch"}, pinned=pinned))
    assert (path, value) == ("tenants.team-a.pinned", pinned)
    assert "priority_class 'platform-batch' (set by the profile's batch_scheduler)" in rule
    assert "pinned.priority_class 'team-a-batch'" in rule
    [(path, _, _)] = _problems(_profile({"name": "yunikorn"}, pinned=pinned, batch_scheduler={"priority_class": "x"}))
    assert path == "tenants.team-a.batch_scheduler"
    [(path, value, _)] = _problems(_profile({"name": "yunikorn", "priority_class": "Not_A_Name"}))
    assert (path, value) == ("batch_scheduler.priority_class", "Not_A_Name")


def test_a_job_cannot_choose_a_batch_scheduler(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(
        "name: sneaky\ntenant: team-a\nmain_application_file: s3://lake/job.py\n"
        "batch_scheduler: {name: yunikorn, queue: root.production}\n"
    )
    with pytest.raises(SpecError) as caught:
        SparkJob.from_yaml(path)
    [problem] = caught.value.problems
    assert problem.path == "batch_scheduler"
    assert problem.value == {"name": "yunikorn", "queue": "root.production"}
    assert problem.rule.startswith("unknown key")
    assert str(path) in str(caught.value)
