"""Submit SparkApplications to the kubeflow Spark Operator, and find them again after a worker died."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_eks_data.backends.base import Attempt, Run, WaitSettings
from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.targets import Target
from airflow_eks_data.triggers.events import TERMINAL, app_state
from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.spark_operator import SparkOperatorHook

TASK_KEY_LABEL = "airflow-eks-data/task-key"
TRY_LABEL = "airflow-eks-data/try"
ATTEMPT_LABEL = "airflow-eks-data/attempt"


class SparkOperatorBackend:
    kind = Target.SPARK_OPERATOR

    def __init__(self, kubernetes_conn_id: str) -> None:
        self.kubernetes_conn_id = kubernetes_conn_id

    @cached_property
    def hook(self) -> SparkOperatorHook:
        # Imported here: the Kubernetes clients take seconds to import, and DAG files never need them.
        from airflow_eks_data.hooks.spark_operator import SparkOperatorHook

        return SparkOperatorHook(conn_id=self.kubernetes_conn_id)

    def adoptable(self, job: ResolvedJob, key: str) -> Run | None:
        found = self.hook.find_applications(job.namespace, {TASK_KEY_LABEL: key})
        live = [a for a in found if app_state(a) not in TERMINAL and not a["metadata"].get("deletionTimestamp")]
        done = [a for a in found if app_state(a) == "COMPLETED"]
        candidates = sorted(live or done, key=lambda a: a["metadata"].get("creationTimestamp", ""))
        if not candidates:
            return None
        meta = candidates[-1]["metadata"]
        return Run(meta["name"], meta["namespace"], int((meta.get("labels") or {}).get(ATTEMPT_LABEL, 1)))

    def still_adoptable(self, run: Run) -> bool:
        application = self.hook.get_application(run.name, run.namespace)
        return application is not None and app_state(application) != "FAILED"

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        manifest = prepared.document
        manifest["metadata"]["labels"].update(
            {TASK_KEY_LABEL: attempt.key, TRY_LABEL: str(attempt.try_number), ATTEMPT_LABEL: str(attempt.number)}
        )
        application, created = self.hook.create_application(manifest)
        meta = application["metadata"]
        return Run(meta["name"], meta["namespace"], attempt.number, {"created": created})

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> SparkApplicationTrigger:
        return SparkApplicationTrigger(
            run.name,
            run.namespace,
            self.kubernetes_conn_id,
            started_at=wait.started_at,
            deadline=wait.deadline,
            startup_timeout=wait.startup_timeout,
            poll_interval=wait.poll_interval,
            log_interval=wait.log_interval,
            state=state,
        )

    def cancel(self, run: Run) -> None:
        self.hook.delete_application(run.name, run.namespace)

    def log_tail(self, run: Run, lines: int) -> list[str]:
        application = self.hook.get_application(run.name, run.namespace)
        return self.hook.driver_log_tail(application, lines) if application else []

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
        return {}
