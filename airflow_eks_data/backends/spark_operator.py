"""Submit SparkApplications to the kubeflow Spark Operator, and find them again after a worker died."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_eks_data.backends.base import (
    ATTEMPT_MARK,
    TASK_KEY_MARK,
    Attempt,
    Connections,
    WaitSettings,
    attempt_marks,
)
from airflow_eks_data.links.urls import link_urls
from airflow_eks_data.outcomes.states import SPARK_APPLICATION
from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.runs.state import Run
from airflow_eks_data.triggers.events import app_state
from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.spark_operator import SparkOperatorHook


class SparkOperatorBackend:
    can_defer = True

    def __init__(self, connections: Connections) -> None:
        self.kubernetes_conn_id = connections.kubernetes_conn_id
        self.region_name = connections.region_name or ""

    @cached_property
    def hook(self) -> SparkOperatorHook:
        # Imported here: the Kubernetes clients take seconds to import, and DAG files never need them.
        from airflow_eks_data.hooks.spark_operator import SparkOperatorHook

        return SparkOperatorHook(conn_id=self.kubernetes_conn_id)

    def reattach(self, job: ResolvedJob, key: str, remembered: Run | None) -> Run | None:
        if remembered is not None:
            application = self.hook.get_application(remembered.name, remembered.location)
            if application is not None and app_state(application) != "FAILED":
                return remembered
        found = self.hook.find_applications(job.namespace, {TASK_KEY_MARK: key})
        live = [
            a
            for a in found
            if app_state(a) not in SPARK_APPLICATION.terminal and not a["metadata"].get("deletionTimestamp")
        ]
        done = [a for a in found if app_state(a) == "COMPLETED"]
        candidates = sorted(live or done, key=lambda a: a["metadata"].get("creationTimestamp", ""))
        if not candidates:
            return None
        meta = candidates[-1]["metadata"]
        attempt = int((meta.get("labels") or {}).get(ATTEMPT_MARK, 1))
        return Run(name=meta["name"], location=meta["namespace"], attempt=attempt)

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        manifest = prepared.document
        manifest["metadata"]["labels"].update(attempt_marks(attempt))
        application, created = self.hook.create_application(manifest)
        meta = application["metadata"]
        return Run(name=meta["name"], location=meta["namespace"], attempt=attempt.number, created=created)

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> SparkApplicationTrigger:
        settings = wait.trigger_kwargs(
            "startup_timeout", "log_interval", "pending_explain_after", "fail_fast_on_unschedulable", "metric_tags"
        )
        return SparkApplicationTrigger(run.name, run.location, self.kubernetes_conn_id, state=state, **settings)

    def cancel(self, run: Run | None) -> None:
        if run is not None:
            self.hook.delete_application(run.name, run.location)

    def log_tail(self, run: Run, lines: int) -> list[str]:
        application = self.hook.get_application(run.name, run.location)
        return self.hook.driver_log_tail(application, lines) if application else []

    def links(self, job: ResolvedJob, run: Run, app_id: str) -> dict[str, str | None]:
        ui = job.profile.ui
        templates = {"spark_ui": ui.spark_ui_url, "history": ui.history_server_url}
        return link_urls(templates, namespace=run.location, name=run.name, app_id=app_id, region=self.region_name)

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
        return {"namespace": run.location}
