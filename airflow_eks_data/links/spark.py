"""Operator extra links: the live Spark UI, the Spark History Server page and the EMR on EKS job run
page of a task's run.

The operator stores the URLs in XCom when it submits (and again when the run ends, with the Spark
application id), so the links work while the task is deferred and after any restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskInstanceKey

LINKS_KEY = "spark_links"
"""XCom key holding `{"spark_ui": url, "history": url, "emr_job_run": url}` for the task's current run."""


class _XComLink(BaseOperatorLink):
    field = ""

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        urls = XCom.get_value(key=LINKS_KEY, ti_key=ti_key) or {}
        return str(urls.get(self.field) or "")


class SparkUiLink(_XComLink):
    """The driver's Spark UI while the application runs."""

    name = "Spark UI"
    field = "spark_ui"


class SparkHistoryLink(_XComLink):
    """The Spark History Server page of the application, once it has an application id."""

    name = "Spark History Server"
    field = "history"


class EmrJobRunLink(_XComLink):
    """The EMR on EKS job run (console or persistent application UI), from the profile's template."""

    name = "EMR on EKS job run"
    field = "emr_job_run"


def push_links(ti: Any, links: Iterable[_XComLink], urls: dict[str, str | None]) -> None:
    """Store the URLs, and each link's own XCom too: Airflow resolves links when a task ends, and
    this makes them clickable while it is still deferred."""
    ti.xcom_push(key=LINKS_KEY, value=urls)
    for link in links:
        ti.xcom_push(key=link.xcom_key, value=urls.get(link.field) or "")
