"""`SparkOnEksOperator`: render a job under its profile, submit it idempotently, wait deferrably,
and tell infrastructure interruptions (resubmitted) from application failures (failed fast)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.hooks.spark_operator import SparkOperatorHook
from airflow_eks_data.outcomes import Action, AttemptRecord, Escalation, decide, outcome_summary
from airflow_eks_data.pipeline import Prepared, load_profile, prepare
from airflow_eks_data.spec.job import SparkJob
from airflow_eks_data.spec.loading import read_yaml_mapping
from airflow_eks_data.spec.names import attempt_name, task_key
from airflow_eks_data.spec.profile import PlatformProfile
from airflow_eks_data.triggers.resubmit import ResubmitAfterTrigger
from airflow_eks_data.triggers.spark_application import (
    TERMINAL,
    SparkApplicationTrigger,
    app_state,
    event_classification,
)
from airflow_eks_data.utils import config

if TYPE_CHECKING:
    from airflow.sdk import Context

TASK_KEY_LABEL = "airflow-eks-data/task-key"
TRY_LABEL = "airflow-eks-data/try"
ATTEMPT_LABEL = "airflow-eks-data/attempt"
BACKENDS = ("spark_operator", "emr_on_eks", "local")


class SparkOnEksOperator(BaseOperator):
    """Run a `SparkJob` on EKS through the Spark Operator (EMR on EKS and local backends: see docs).

    :param job: a `SparkJob`, a dict, or a YAML path (relative paths are tried from the DAG's folder);
        its values are templated.
    :param profile: profile name, YAML path or `PlatformProfile`; default `[eks_data] default_profile`.
    :param backend: `spark_operator`, `emr_on_eks` or `local`; default: the profile's backend.
    :param tenant: tenant, when the job does not name one.
    :param kubernetes_conn_id: Airflow `kubernetes` connection to the EKS cluster.
    :param deferrable: wait in the triggerer (default) instead of a worker slot.
    :param interruption_retries: resubmissions after spot interruptions (default: job, then profile, then 3).
    :param retry_on_failure: let Airflow retry application failures too (default: fail fast).
    :param interruption_backoff: base seconds of the jittered backoff before a resubmission (default 30).
    :param poll_interval: seconds between checks that the shared watch does not cover.
    :param log_tail_lines: driver log lines written to the task log at the end (always on failure).
    """

    template_fields: Sequence[str] = ("job", "tenant")
    ui_color = "#f4a460"

    def __init__(
        self,
        *,
        job: SparkJob | dict[str, Any] | str | Path,
        profile: str | Path | PlatformProfile | None = None,
        backend: str | None = None,
        tenant: str | None = None,
        kubernetes_conn_id: str = "kubernetes_default",
        deferrable: bool = True,
        interruption_retries: int | None = None,
        retry_on_failure: bool | None = None,
        interruption_backoff: float | None = None,
        poll_interval: float = 30.0,
        log_tail_lines: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job = self._job_dict(job)
        self.profile = profile
        self.backend = backend
        self.tenant = tenant
        self.kubernetes_conn_id = kubernetes_conn_id
        self.deferrable = deferrable
        self.interruption_retries = interruption_retries
        self.retry_on_failure = retry_on_failure
        self.interruption_backoff = interruption_backoff
        self.poll_interval = poll_interval
        self.log_tail_lines = log_tail_lines
        self._application: tuple[str, str] | None = None
        # A wrong spec fails the DAG import here, long before anything could reach a cluster.
        prepared = self._prepare()
        if prepared.target not in ("spark_operator",):
            raise SpecError([Problem("backend", prepared.target, "this release submits to spark_operator only")])

    def _job_dict(self, job: SparkJob | dict[str, Any] | str | Path) -> dict[str, Any]:
        if isinstance(job, SparkJob):
            return job.model_dump(mode="json", exclude_unset=True)
        if isinstance(job, dict):
            return job
        path = Path(job)
        if not path.is_absolute() and not path.exists() and self.has_dag() and self.dag.fileloc:
            path = Path(self.dag.fileloc).parent / path
        # The raw mapping, not the model: Airflow templates it at run time, then it is validated again.
        return read_yaml_mapping(path)

    def _profile(self) -> PlatformProfile:
        ref = self.profile or config.default_profile()
        if ref is None:
            raise SpecError([Problem("profile", None, "required: pass profile= or set [eks_data] default_profile")])
        return load_profile(ref, config.profiles_dir())

    def _prepare(self, name: str | None = None, escalation: Escalation | None = None) -> Prepared:
        return prepare(
            self.job, self._profile(), target=self.backend, tenant=self.tenant, app_name=name, escalation=escalation
        )

    @cached_property
    def hook(self) -> SparkOperatorHook:
        return SparkOperatorHook(conn_id=self.kubernetes_conn_id)

    # -- submit ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        ti = context["ti"]
        key = task_key(ti.dag_id, ti.task_id, ti.run_id, ti.map_index if ti.map_index is not None else -1)
        state: dict[str, Any] = {
            "key": key,
            "try": ti.try_number,
            "attempt": 1,
            "interruptions": 0,
            "records": [],
            "started": time.time(),
        }
        adopted = self._adoptable(key)
        if adopted is not None:
            meta = adopted["metadata"]
            labels = meta.get("labels") or {}
            state["attempt"] = int(labels.get(ATTEMPT_LABEL, 1))
            self.log.info(
                "Reattaching to %s/%s (%s) submitted by an earlier try",
                meta["namespace"],
                meta["name"],
                app_state(adopted) or "NEW",
            )
            return self._wait(context, meta["name"], meta["namespace"], state)
        return self._submit(context, state)

    def _adoptable(self, key: str) -> dict[str, Any] | None:
        """This task's application from an earlier try that is still running or that completed."""
        namespace = self._prepare().job.namespace
        found = self.hook.find_applications(namespace, {TASK_KEY_LABEL: key})
        live = [app for app in found if app_state(app) not in TERMINAL and not app["metadata"].get("deletionTimestamp")]
        done = [app for app in found if app_state(app) == "COMPLETED"]
        newest = sorted(live or done, key=lambda app: app["metadata"].get("creationTimestamp", ""))
        return newest[-1] if newest else None

    def _submit(self, context: Context, state: dict[str, Any]) -> Any:
        job_name = str(self.job.get("name", "job"))
        name = attempt_name(job_name, state["key"], state["try"], state["attempt"])
        escalation = Escalation(**state.get("escalation", {}))
        prepared = self._prepare(name, escalation)
        manifest = prepared.document
        manifest["metadata"]["labels"].update(
            {TASK_KEY_LABEL: state["key"], TRY_LABEL: str(state["try"]), ATTEMPT_LABEL: str(state["attempt"])}
        )
        application, created = self.hook.create_application(manifest)
        namespace = application["metadata"]["namespace"]
        self.log.info(
            "%s SparkApplication %s/%s (attempt %d)",
            "Submitted" if created else "Found existing",
            namespace,
            name,
            state["attempt"],
        )
        state["submitted"] = time.time()
        return self._wait(context, name, namespace, state)

    def _wait(self, context: Context, name: str, namespace: str, state: dict[str, Any]) -> Any:
        self._application = (name, namespace)
        resolved = self._prepare().job
        deadline = state["started"] + resolved.timeout if resolved.timeout else None
        trigger = SparkApplicationTrigger(
            name,
            namespace,
            self.kubernetes_conn_id,
            started_at=state.get("submitted", state["started"]),
            deadline=deadline,
            startup_timeout=resolved.startup_timeout,
            poll_interval=self.poll_interval,
            state=state,
        )
        if not self.deferrable:
            return self.execute_complete(context, asyncio.run(_first_event(trigger)))
        backstop = None if deadline is None else max(deadline - time.time(), 0) + 300
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=None if backstop is None else timedelta(seconds=backstop),
        )

    # -- decide ---------------------------------------------------------------------------------

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        state, name, namespace = event["state"], event["name"], event["namespace"]
        self._application = (name, namespace)
        classification, last_state = event_classification(event)
        resolved = self._prepare().job
        settings = resolved.retry_settings(
            interruption_retries=self.interruption_retries,
            retry_on_failure=self.retry_on_failure,
            backoff_base_seconds=self.interruption_backoff,
            backoff_cap_seconds=max(self.interruption_backoff or 0, 600),
        )
        decision = decide(
            classification, interruptions_so_far=state["interruptions"], settings=settings, rng=random.Random()
        )
        record = AttemptRecord.of(state["attempt"], classification, decision, run_id=name)
        state["records"].append(record.model_dump(mode="json"))
        state["interruptions"] = decision.interruptions
        self.log.info(
            "Attempt %d of %s: %s (%s); %s",
            state["attempt"],
            name,
            classification.outcome.value,
            classification.reason,
            decision.reason,
        )
        for line in classification.evidence:
            self.log.info("  evidence: %s", line)
        if last_state not in TERMINAL and decision.action is not Action.SUCCEED:
            self.hook.delete_application(name, namespace)  # timed out or stuck: nothing may keep running
        if decision.action is Action.SUCCEED:
            self._log_driver_tail(name, namespace, failed=False)
            return self._result(state, name, namespace, last_state, resolved.profile)
        if decision.action is Action.RESUBMIT:
            state["attempt"] += 1
            state["escalation"] = decision.escalation.model_dump(mode="json")
            resume_at = time.time() + decision.delay_seconds
            self.log.info("Resubmitting in %.1fs as attempt %d", decision.delay_seconds, state["attempt"])
            if not self.deferrable:
                time.sleep(decision.delay_seconds)
                return self._submit(context, state)
            self.defer(trigger=ResubmitAfterTrigger(resume_at, state), method_name="resubmit")
        self._log_driver_tail(name, namespace, failed=True)
        summary = f"{name}: {classification.outcome.value}: {classification.reason}"
        if decision.action is Action.FAIL_FAST:
            raise AirflowFailException(f"{summary} (not retried: {decision.reason})")
        raise AirflowException(f"{summary} ({decision.reason})")

    def resubmit(self, context: Context, event: dict[str, Any]) -> Any:
        return self._submit(context, event["state"])

    def _result(
        self, state: dict[str, Any], name: str, namespace: str, last_state: str | None, profile: PlatformProfile
    ) -> dict[str, Any]:
        summary = outcome_summary([AttemptRecord.model_validate(r) for r in state["records"]])
        template = profile.ui.spark_ui_url
        return {
            "backend": "spark_operator",
            "name": name,
            "namespace": namespace,
            "job": self.job.get("name"),
            "state": last_state,
            **summary,
            "duration_s": round(time.time() - state["started"], 3),
            "spark_ui_url": template.format(namespace=namespace, name=name, app_id=name) if template else None,
        }

    def _log_driver_tail(self, name: str, namespace: str, failed: bool) -> None:
        if not failed and self.log_tail_lines <= 0:
            return
        application = self.hook.get_application(name, namespace)
        lines = self.hook.driver_log_tail(application, max(self.log_tail_lines, 50)) if application else []
        if lines:
            self.log.info("Last %d lines of the driver log of %s:\n%s", len(lines), name, "\n".join(lines))

    def on_kill(self) -> None:
        """Delete the application this task is waiting on (non-deferrable waits; the trigger does it
        for deferred ones)."""
        if self._application:
            name, namespace = self._application
            self.log.info("Deleting SparkApplication %s/%s", namespace, name)
            self.hook.delete_application(name, namespace)


async def _first_event(trigger: SparkApplicationTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AirflowException("trigger ended without an event")
