from __future__ import annotations

import pytest

from airflow_eks_data.jobspec.names import (
    DNS_LABEL,
    MAX_APP_NAME,
    attempt_name,
    label_key_problem,
    label_value_problem,
    shorten,
    task_key,
    to_dns_label,
)


def test_shorten_keeps_short_names_and_hashes_long_ones_stably() -> None:
    assert shorten("compact-events", MAX_APP_NAME) == "compact-events"
    long = "compact-" + "x" * 60
    short = shorten(long, MAX_APP_NAME)
    assert len(short) == MAX_APP_NAME
    assert short == shorten(long, MAX_APP_NAME)
    assert short != shorten(long + "y", MAX_APP_NAME)
    assert DNS_LABEL.match(short)


def test_to_dns_label_accepts_airflow_ids() -> None:
    name = to_dns_label("hourly_compaction.compact__events-scheduled__2026-11-23T10:00:00+00:00")
    assert DNS_LABEL.match(name)
    assert len(name) <= MAX_APP_NAME
    assert to_dns_label("9lives").startswith("a-")


def test_label_rules() -> None:
    assert label_key_problem("team") is None
    assert label_key_problem("airflow-eks-data/app") is None
    assert label_key_problem("Bad_Prefix/x") is not None
    assert label_key_problem("x" * 64) is not None
    assert label_value_problem("cc-42") is None
    assert label_value_problem("{{ params.team }}") is None
    assert label_value_problem("has space") is not None


@pytest.mark.parametrize("job_name", ["a", "compact-events", "x" * 63, "9-starts-with-a-digit" + "y" * 42])
def test_an_attempt_name_always_keeps_the_task_key(job_name: str) -> None:
    """EMR Serverless finds a task's runs by this part of their names (it cannot list by tag)."""
    key = task_key("dag", "task", "scheduled__2026-12-05T10:00:00+00:00", 3)
    for try_number, attempt in ((1, 1), (999, 99)):
        name = attempt_name(job_name, key, try_number, attempt)
        assert key[:10] in name and len(name) <= MAX_APP_NAME and DNS_LABEL.match(name)
