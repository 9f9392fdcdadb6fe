"""`SparkOnEksOperator`: render a job under its profile, submit it idempotently, wait deferrably,
and tell infrastructure interruptions (resubmitted) from application failures (failed fast).

Every decision is `runs.steps.next_step`'s; this class performs them through the job's backend."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_eks_data.backends.base import Attempt, Backend, Connections, HeldBack, WaitSettings
from airflow_eks_data.backends.registry import registration
from airflow_eks_data.jobspec.job import SparkJob
from airflow_eks_data.jobspec.loading import job_mapping
from airflow_eks_data.jobspec.names import attempt_name, is_templated, task_key
from airflow_eks_data.jobspec.profile import PlatformProfile
from airflow_eks_data.links.spark import EmrJobRunLink, SparkHistoryLink, SparkUiLink
from airflow_eks_data.observability.usage import event_usage
from airflow_eks_data.outcomes import RetrySettings
from airflow_eks_data.pipeline import Prepared, prepare
from airflow_eks_data.retry_policy import default_retry_policy, fail_task
from airflow_eks_data.runs import steps
from airflow_eks_data.runs.state import Run, RunState
from airflow_eks_data.triggers.events import event_application_id, event_classification, first_event
from airflow_eks_data.triggers.resubmit import ResubmitAfterTrigger
from airflow_eks_data.utils import assets, config, openlineage
from airflow_eks_data.utils.reporting import RunReport
from airflow_eks_data.utils.secret_masker import mask_job_secrets
from airflow_eks_data.utils.task_state import remember_run, remembered_run

if TYPE_CHECKING:
    import jinja2
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context


class SparkOnEksOperator(BaseOperator):
    """Run a `SparkJob` on EKS and return what happened (see the how-to for each backend).

    :param job: a `SparkJob`, a dict, or a YAML path (relative paths are tried from the DAG's folder);
        its values are templated. Its `outputs` become Airflow Assets: this task's outlets when known
        at parse time, else events through the `AssetAlias` outlets the DAG declares.
    :param profile: profile name, YAML path or `PlatformProfile`; default `[eks_data] default_profile`.
    :param backend: a registered backend (`spark_operator`, `emr_on_eks`, `local`); default: the profile's.
    :param tenant: tenant, when the job does not name one.
    :param kubernetes_conn_id: Airflow `kubernetes` connection to the EKS cluster (Spark Operator).
    :param aws_conn_id: Airflow `aws` connection (EMR on EKS).
    :param region_name: AWS region of the virtual cluster (default: the connection's).
    :param deferrable: wait in the triggerer (default) instead of a worker slot.
    :param interruption_retries: resubmissions after spot interruptions (default: job, then profile, then 3).
    :param retry_on_failure: let Airflow retry application failures too (default: fail fast).
    :param interruption_backoff: base seconds of the jittered backoff before a resubmission (default 30).
    :param poll_interval: seconds between checks that the shared watch does not cover.
    :param log_tail_lines: driver log lines written to the task log at the end (always on failure).
    :param log_interval: seconds between driver log reads during the wait (Spark Operator; default: none).
    :param manifest_file: JSON file the job writes in each output (`_MANIFEST.json`): for XCom, Assets, lineage.
    :param openlineage_inject_parent_job_info: add `spark.openlineage.parent*` keys (default: the
        profile's `lineage`, else `[openlineage] spark_inject_parent_job_info`).
    :param openlineage_inject_transport_info: add `spark.openlineage.transport*` keys (same defaults).
    """

    template_fields: Sequence[str] = ("job", "tenant", "profile", "backend")
    ui_color = "#f4a460"
    operator_extra_links = (SparkUiLink(), SparkHistoryLink(), EmrJobRunLink())

    def __init__(
        self,
        *,
        job: SparkJob | dict[str, Any] | str | Path,
        profile: str | Path | PlatformProfile | None = None,
        backend: str | None = None,
        tenant: str | None = None,
        kubernetes_conn_id: str = "kubernetes_default",
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        deferrable: bool = True,
        interruption_retries: int | None = None,
        retry_on_failure: bool | None = None,
        interruption_backoff: float | None = None,
        poll_interval: float = 30.0,
        log_tail_lines: int = 100,
        log_interval: float | None = None,
        manifest_file: str | None = None,
        openlineage_inject_parent_job_info: bool | None = None,
        openlineage_inject_transport_info: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("retry_policy") is None:
            kwargs["retry_policy"] = default_retry_policy()
        super().__init__(**kwargs)
        self.job = job_mapping(job, Path(self.dag.fileloc).parent if self.has_dag() and self.dag.fileloc else None)
        mask_job_secrets(self.job)
        self.profile, self.backend, self.tenant = profile, backend, tenant
        self.kubernetes_conn_id, self.aws_conn_id, self.region_name = kubernetes_conn_id, aws_conn_id, region_name
        self.deferrable, self.poll_interval, self.log_interval = deferrable, poll_interval, log_interval
        self.interruption_retries, self.retry_on_failure = interruption_retries, retry_on_failure
        self.interruption_backoff, self.manifest_file = interruption_backoff, manifest_file
        self.log_tail_lines = log_tail_lines
        self.openlineage_inject_parent_job_info = openlineage_inject_parent_job_info
        self.openlineage_inject_transport_info = openlineage_inject_transport_info
        self._report: dict[str, Any] | None = None
        self._run: Run | None = None
        # Outputs known now are outlets; an unmapped instance of a mapped task keeps the DAG's outlets.
        if not self.outlets and not getattr(self, "_BaseOperator__from_mapped", False):
            self.outlets = assets.static_outlets(self.job.get("outputs") or ())
        # A wrong spec fails the DAG import, before it can reach a cluster (templated ones: at run time).
        if not (is_templated(self.profile) or is_templated(self.backend)):
            self._prepare()

    def _prepare(self, **attempt: Any) -> Prepared:
        """The templated job resolved and checked; for a submission, named and placed for its attempt."""
        profile = config.operator_profile(self.profile)
        return prepare(self.job, profile, target=self.backend, tenant=self.tenant, **attempt)

    @cached_property
    def _prepared(self) -> Prepared:
        """The templated job, resolved once per execution (only read after Airflow rendered the fields)."""
        return self._prepare()

    @cached_property
    def backend_impl(self) -> Backend:
        log = functools.partial(self.log.info, "%s")
        connections = Connections(self.kubernetes_conn_id, self.aws_conn_id, self.region_name, log)
        return registration(self._prepared.target).runner_for(connections)

    @cached_property
    def _reporter(self) -> RunReport:
        job, target = self._prepared.job, self._prepared.target
        return RunReport(self.backend_impl, job, target, self.log, self.log_tail_lines, self.manifest_file)

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        """Mask what Jinja just rendered before Airflow stores the rendered fields, which it does before execute()."""
        super().render_template_fields(context, jinja_env)
        mask_job_secrets(self.job)

    def execute(self, context: Context) -> Any:
        ti = context["ti"]
        key = task_key(ti.dag_id, ti.task_id, ti.run_id, ti.map_index if ti.map_index is not None else -1)
        state = RunState(backend=self._prepared.target, key=key, try_number=ti.try_number, started_at=time.time())
        adopted = self.backend_impl.reattach(self._prepared.job, key, remembered_run(context))
        if adopted is not None:
            self.log.info("Reattaching to %s/%s, submitted by an earlier try", adopted.location, adopted.name)
        return self._perform(context, state, steps.Began(adopted))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        state = RunState.from_dict(event["state"], backend=self._prepared.target, event=event)
        classification, last_state = event_classification(event)
        app_id = event_application_id(event)
        if app_id and state.run:
            self._reporter.links(context, self.operator_extra_links, state.run, app_id)
        usage = event_usage(event).to_dict()
        return self._perform(context, state, steps.Finished(classification, last_state, usage, app_id))

    def resubmit(self, context: Context, event: dict[str, Any]) -> Any:
        state = RunState.from_dict(event["state"], backend=self._prepared.target)
        return self._perform(context, state, steps.BackoffElapsed())

    def _perform(self, context: Context, state: RunState, event: steps.Event) -> Any:
        """Feed `event` to the step function and carry out each action until one defers or ends the task."""
        finished = event if isinstance(event, steps.Finished) else None
        while True:
            self._run = state.run or self._run
            step = steps.next_step(state, event, self._retry_settings())
            state, action = step.state, step.action
            if finished and step.decision and self._run:
                self._reporter.attempt(self._run, finished, step.decision.reason)
            if getattr(action, "cancel", False):  # the wait ended with the run going: stop it
                self.backend_impl.cancel(self._run)
            if isinstance(action, steps.Submit):
                event = self._submit(context, state)
            elif isinstance(action, steps.Wait):
                return self._wait(context, state)
            elif isinstance(action, steps.Resubmit | steps.Hold):
                self._reporter.resubmitting(action, state)
                if self.deferrable and self.backend_impl.can_defer:
                    resume_at = time.time() + action.delay_seconds
                    self.defer(trigger=ResubmitAfterTrigger(resume_at, state.to_dict()), method_name="resubmit")
                time.sleep(action.delay_seconds)
                event = steps.BackoffElapsed()
            else:
                assert finished is not None
                return self._end(context, state, action, finished)

    def _submit(self, context: Context, state: RunState) -> steps.Submitted | steps.Held:
        name = attempt_name(str(self.job.get("name", "job")), state.key, state.try_number, state.attempt)
        parent, transport = self.openlineage_inject_parent_job_info, self.openlineage_inject_transport_info
        additions = openlineage.run_additions(self._prepared.job, context, parent, transport)
        prepared = self._prepare(app_name=name, escalation=state.escalation, additions=additions)
        began = time.time()
        try:
            run = self.backend_impl.submit(prepared, Attempt(state.key, state.try_number, state.attempt))
        except HeldBack as held:
            return steps.Held(held.reason, time.time(), state.deadline(self._prepared.job.timeout))
        self._reporter.submitted(run, time.time() - began)
        remember_run(context, run)
        return steps.Submitted(run, time.time())

    def _wait(self, context: Context, state: RunState) -> Any:
        run = self._run = state.run
        assert run is not None
        job, backend = self._prepared.job, self.backend_impl
        self._reporter.links(context, self.operator_extra_links, run, run.name)
        wait = replace(
            WaitSettings.of(state, job.timeout, job.startup_timeout, self.poll_interval, self.log_interval),
            pending_explain_after=job.profile.pending_explain_after,
            fail_fast_on_unschedulable=job.profile.fail_fast_on_unschedulable,
            metric_tags=self._reporter.tags,
        )
        trigger = backend.trigger(run, wait, state.to_dict())
        if not (self.deferrable and backend.can_defer):
            return self.execute_complete(context, asyncio.run(first_event(trigger)))
        backstop = None if wait.deadline is None else timedelta(seconds=max(wait.deadline - time.time(), 0) + 300)
        self.defer(trigger=trigger, method_name="execute_complete", timeout=backstop)

    def _end(self, context: Context, state: RunState, action: steps.Fail | steps.Succeed, how: steps.Finished) -> Any:
        run, report, succeeded = state.run, self._reporter, isinstance(action, steps.Succeed)
        assert run is not None
        result = self._report = report.result(state, run, how.last_state, how.app_id, succeeded, time.time())
        if isinstance(action, steps.Fail):
            report.driver_tail(run, always=True)
            fail_task(action.message, action.fail_fast, action.reason)
        report.driver_tail(run, always=False)
        report.outputs(context, self.outlets, result)
        return result

    def _retry_settings(self) -> RetrySettings:
        return self._prepared.job.retry_settings(
            interruption_retries=self.interruption_retries,
            retry_on_failure=self.retry_on_failure,
            backoff_base_seconds=self.interruption_backoff,
        )

    def get_openlineage_facets_on_start(self) -> OperatorLineage:  # type: ignore[type-arg]
        return openlineage.lineage(self._prepared.job, self._prepared.target)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:  # type: ignore[type-arg]
        """Called by the OpenLineage listener, in the process that finished the task."""
        return openlineage.lineage(self._prepared.job, self._prepared.target, self._report, self._reporter.statistics)

    get_openlineage_facets_on_failure = get_openlineage_facets_on_complete

    def on_kill(self) -> None:
        """Cancel the run this task waits on (non-deferrable waits; the trigger does it for deferred ones)."""
        if "backend_impl" in self.__dict__:
            self.log.info("Cancelling %s", self._run.name if self._run else "the run")
            self.backend_impl.cancel(self._run)
