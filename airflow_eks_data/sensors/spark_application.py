"""Wait on a SparkApplication submitted elsewhere (a GitOps repo, another DAG, a person)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException

from airflow_eks_data.outcomes import SPARK_APPLICATION, Outcome, SparkOperatorEvidence, classify
from airflow_eks_data.triggers.events import app_state, event_classification
from airflow_eks_data.triggers.spark_application import SparkApplicationTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_eks_data.hooks.spark_operator import SparkOperatorHook


class SparkApplicationSensor(BaseSensorOperator):
    """Succeeds when the application COMPLETES; fails, with the classified reason, when it FAILS.

    It never deletes the application: it did not create it.

    :param application_name: SparkApplication name.
    :param namespace: its namespace.
    :param kubernetes_conn_id: Airflow `kubernetes` connection.
    :param deferrable: wait in the triggerer (default) instead of poking from a worker.
    """

    template_fields: Sequence[str] = ("application_name", "namespace")

    def __init__(
        self,
        *,
        application_name: str,
        namespace: str,
        kubernetes_conn_id: str = "kubernetes_default",
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.application_name = application_name
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> SparkOperatorHook:
        from airflow_eks_data.hooks.spark_operator import SparkOperatorHook

        return SparkOperatorHook(conn_id=self.kubernetes_conn_id)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        self.defer(
            trigger=SparkApplicationTrigger(
                self.application_name,
                self.namespace,
                self.kubernetes_conn_id,
                poll_interval=self.poke_interval,
                delete_on_kill=False,
            ),
            method_name="execute_complete",
            timeout=self.execution_timeout,
        )

    def poke(self, context: Context) -> bool:
        application = self.hook.get_application(self.application_name, self.namespace)
        if application is None:
            raise AirflowException(f"SparkApplication {self.namespace}/{self.application_name} does not exist")
        if app_state(application) not in SPARK_APPLICATION.terminal:
            return False
        from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook

        async def collect() -> dict[str, Any]:
            hook = AsyncSparkOperatorHook(conn_id=self.kubernetes_conn_id)
            try:
                return await hook.driver_evidence(application)
            finally:
                await hook.close()

        evidence = asyncio.run(collect())
        classification = classify(SparkOperatorEvidence(snapshots=(application.get("status") or {},), **evidence))
        return self._finish(classification.outcome, classification.reason)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        classification, state = event_classification(event)
        self._finish(classification.outcome, classification.reason)
        return {"name": self.application_name, "namespace": self.namespace, "state": state, **classification.to_dict()}

    def _finish(self, outcome: Outcome, reason: str) -> bool:
        if outcome is not Outcome.SUCCEEDED:
            raise AirflowException(
                f"SparkApplication {self.namespace}/{self.application_name}: {outcome.value}: {reason}"
            )
        return True
