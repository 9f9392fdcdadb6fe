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
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_eks_data.backends.base import Attempt, Backend, Run, WaitSettings
from airflow_eks_data.errors import Problem, SpecError
from airflow_eks_data.jobspec.job import SparkJob
from airflow_eks_data.jobspec.loading import looks_like_path, read_yaml_mapping
from airflow_eks_data.jobspec.names import attempt_name, is_templated, task_key, to_label_value
from airflow_eks_data.jobspec.profile import PlatformProfile
from airflow_eks_data.links.spark import LINKS_KEY, EmrJobRunLink, SparkHistoryLink, SparkUiLink, link_urls
from airflow_eks_data.observability.cost import estimate
from airflow_eks_data.observability.usage import Usage, usage_of
from airflow_eks_data.outcomes import (
    Action,
    AttemptRecord,
    Classification,
    OnDemandEscalation,
    Outcome,
    decide,
    outcome_summary,
)
from airflow_eks_data.pipeline import Prepared, load_profile, prepare
from airflow_eks_data.render.pod_template import DAG_LABEL, RUN_LABEL, TASK_LABEL
from airflow_eks_data.resolve import ResolvedJob, RunAdditions
from airflow_eks_data.retry_policy import HAS_RETRY_POLICY, SparkRunFailed, default_retry_policy
from airflow_eks_data.targets import TARGETS, Target
from airflow_eks_data.triggers.events import FINISHED, event_application_id, event_classification
from airflow_eks_data.triggers.resubmit import ResubmitAfterTrigger
from airflow_eks_data.utils import assets, config, metrics, openlineage
from airflow_eks_data.utils.manifests import output_figures, read_manifest
from airflow_eks_data.utils.secret_masker import mask_job_secrets

if TYPE_CHECKING:
    import jinja2
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_eks_data.hooks.local_spark import LocalSparkHook

SUPPORTED = TARGETS
RUN_STATE_KEY = "airflow_eks_data.run"
"""Task state store key of the current attempt's run, read by the next try."""


class SparkOnEksOperator(BaseOperator):
    """Run a `SparkJob` on EKS and return what happened (see the how-to for each backend).

    :param job: a `SparkJob`, a dict, or a YAML path (relative paths are tried from the DAG's folder);
        its values are templated.
    :param profile: profile name, YAML path or `PlatformProfile`; default `[eks_data] default_profile`.
    :param backend: `spark_operator`, `emr_on_eks` or `local`; default: the profile's backend.
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
    :param log_interval: seconds between reads of the driver log while the wait runs, each new line
        written to the task log (Spark Operator; default None: only the tail at the end).
    :param manifest_file: JSON file the job writes into each output (e.g. `_MANIFEST.json`): returned in
        XCom `manifests`; its output files, bytes and rows go to the Asset events and OpenLineage.
    :param openlineage_inject_parent_job_info: add `spark.openlineage.parent*` keys (default: the
        profile's `lineage`, else `[openlineage] spark_inject_parent_job_info`).
    :param openlineage_inject_transport_info: add `spark.openlineage.transport*` keys (same defaults).

    The job's `outputs` become Airflow Assets: known at parse time, they are this task's outlets; else
    declare `outlets=[AssetAlias(...)]` and each run adds an event per output through it.
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
        self.job = self._job_dict(job)
        mask_job_secrets(self.job)
        self.profile = profile
        self.backend = backend
        self.tenant = tenant
        self.kubernetes_conn_id = kubernetes_conn_id
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.deferrable = deferrable
        self.interruption_retries = interruption_retries
        self.retry_on_failure = retry_on_failure
        self.interruption_backoff = interruption_backoff
        self.poll_interval = poll_interval
        self.log_tail_lines = log_tail_lines
        self.log_interval = log_interval
        self.manifest_file = manifest_file
        self.openlineage_inject_parent_job_info = openlineage_inject_parent_job_info
        self.openlineage_inject_transport_info = openlineage_inject_transport_info
        self._report: dict[str, Any] | None = None
        self._statistics: dict[str, dict[str, int]] = {}
        # Outputs known now are outlets; an unmapped instance of a mapped task keeps the DAG's outlets.
        if not self.outlets and not getattr(self, "_BaseOperator__from_mapped", False):
            self.outlets = assets.static_outlets(self.job.get("outputs") or ())
        self._run: Run | None = None
        self._local: LocalSparkHook | None = None
        # A wrong spec fails the DAG import here, long before anything could reach a cluster; a
        # profile or backend that Airflow renders at run time is checked then.
        if not (is_templated(self.profile) or is_templated(self.backend)):
            self._check_backend(self._prepare().target)

    @staticmethod
    def _check_backend(target: str) -> None:
        if target not in SUPPORTED:
            raise SpecError([Problem("backend", target, f"this release submits to {', '.join(SUPPORTED)}")])

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

    @cached_property
    def _profile(self) -> PlatformProfile:
        ref = self.profile or config.default_profile()
        if ref is None:
            raise SpecError([Problem("profile", None, "required: pass profile= or set [eks_data] default_profile")])
        if config.trusted_profiles_only() and (not isinstance(ref, str) or looks_like_path(ref)):
            shown = ref if isinstance(ref, str | Path) else type(ref).__name__
            rule = "trusted-profile: [eks_data] trusted_profiles_only accepts only a profile name from profiles_dir"
            raise SpecError([Problem("profile", str(shown), rule)])
        return load_profile(ref, config.profiles_dir())

    def _prepare(
        self,
        name: str | None = None,
        escalation: OnDemandEscalation | None = None,
        additions: RunAdditions | None = None,
    ) -> Prepared:
        return prepare(
            self.job,
            self._profile,
            target=self.backend,
            tenant=self.tenant,
            app_name=name,
            escalation=escalation,
            additions=additions,
        )

    def _additions(self, context: Context) -> RunAdditions:
        """Labels naming this task instance on every pod, and OpenLineage's keys for this try."""
        ti, job = context["ti"], self._prepared.job
        lineage = job.profile.lineage
        parent, transport = self.openlineage_inject_parent_job_info, self.openlineage_inject_transport_info
        conf = openlineage.spark_conf(
            job.spark_conf,
            context,
            lineage.inject_parent_job_info if parent is None else parent,
            lineage.inject_transport_info if transport is None else transport,
        )
        labels = {DAG_LABEL: ti.dag_id, TASK_LABEL: ti.task_id, RUN_LABEL: ti.run_id}
        return RunAdditions(labels={key: to_label_value(value) for key, value in labels.items()}, spark_conf=conf)

    @cached_property
    def _prepared(self) -> Prepared:
        """The templated job, resolved once per execution (only read after Airflow rendered the fields)."""
        return self._prepare()

    @cached_property
    def backend_impl(self) -> Backend:
        if self._prepared.target is Target.EMR_ON_EKS:
            from airflow_eks_data.backends.emr_on_eks import EmrOnEksBackend

            return EmrOnEksBackend(self.aws_conn_id, self.region_name)
        from airflow_eks_data.backends.spark_operator import SparkOperatorBackend

        return SparkOperatorBackend(self.kubernetes_conn_id)

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        """Mask what Jinja just rendered before Airflow stores the rendered fields, which it does before execute()."""
        super().render_template_fields(context, jinja_env)
        mask_job_secrets(self.job)

    # -- submit -----------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        target = self._prepared.target
        self._check_backend(target)
        if target is Target.LOCAL:
            return self._execute_local(context)
        ti = context["ti"]
        map_index = ti.map_index if ti.map_index is not None else -1
        state: dict[str, Any] = {
            "key": task_key(ti.dag_id, ti.task_id, ti.run_id, map_index),
            "try": ti.try_number,
            "attempt": 1,
            "interruptions": 0,
            "records": [],
            "started": time.time(),
        }
        adopted = self._remembered(context) or self.backend_impl.adoptable(self._prepared.job, state["key"])
        if adopted is not None:
            self.log.info("Reattaching to %s/%s, submitted by an earlier try", adopted.namespace, adopted.name)
            state["attempt"] = adopted.attempt
            return self._wait(context, adopted, state)
        return self._submit(context, state)

    def _submit(self, context: Context, state: dict[str, Any]) -> Any:
        name = attempt_name(str(self.job.get("name", "job")), state["key"], state["try"], state["attempt"])
        prepared = self._prepare(name, OnDemandEscalation(**state.get("escalation", {})), self._additions(context))
        began = time.time()
        run = self.backend_impl.submit(prepared, Attempt(state["key"], state["try"], state["attempt"]))
        metrics.submitted(time.time() - began, self._tags(prepared.job))
        self._remember(context, run)
        verb = "Submitted" if run.extra.get("created", True) else "Found already submitted"
        self.log.info("%s %s/%s (attempt %d)", verb, run.namespace, run.name, state["attempt"])
        state["submitted"] = time.time()
        return self._wait(context, run, state)

    def _remembered(self, context: Context) -> Run | None:
        """The run an earlier try recorded in Airflow's task state store (Airflow 3.3+), if it still
        runs or succeeded; else None, and the backend's label or tag lookup decides."""
        store = context.get("task_state_store")
        saved = store.get(RUN_STATE_KEY) if store is not None else None
        if not isinstance(saved, dict):
            return None
        run = Run(str(saved["name"]), str(saved["namespace"]), int(str(saved["attempt"])))
        return run if self.backend_impl.still_adoptable(run) else None

    def _remember(self, context: Context, run: Run) -> None:
        store = context.get("task_state_store")
        if store is not None:
            value: dict[str, Any] = {"name": run.name, "namespace": run.namespace, "attempt": run.attempt}
            store.set(RUN_STATE_KEY, value, retention=timedelta(days=7))

    def _wait(self, context: Context, run: Run, state: dict[str, Any]) -> Any:
        self._run = run
        job = self._prepared.job
        self._push_links(context, run, job, app_id=run.name)
        deadline = state["started"] + job.timeout if job.timeout else None
        wait = WaitSettings(
            state.get("submitted", state["started"]),
            deadline,
            job.startup_timeout,
            self.poll_interval,
            self.log_interval,
        )
        trigger = self.backend_impl.trigger(run, wait, state)
        if not self.deferrable:
            return self.execute_complete(context, asyncio.run(_first_event(trigger)))
        backstop = None if deadline is None else timedelta(seconds=max(deadline - time.time(), 0) + 300)
        self.defer(trigger=trigger, method_name="execute_complete", timeout=backstop)

    # -- decide -----------------------------------------------------------------------------------

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        state = event["state"]
        run = Run(event["name"], event["namespace"], state["attempt"])
        self._run = run
        classification, last_state = event_classification(event)
        job = self._prepared.job
        decision = decide(
            classification,
            interruptions_so_far=state["interruptions"],
            settings=self._retry_settings(job),
            rng=random.Random(),
        )
        state["records"].append(
            AttemptRecord.of(run.attempt, classification, decision, run.name).model_dump(mode="json")
        )
        state["interruptions"] = decision.interruptions
        usage = usage_of(event.get("evidence") or {})
        state.setdefault("usage", []).append(usage.to_dict())
        metrics.attempt(classification.outcome, usage, self._tags(job))
        self.log.info(
            "Attempt %d (%s): %s: %s; %s",
            run.attempt,
            run.name,
            classification.outcome.value,
            classification.reason,
            decision.reason,
        )
        for line in classification.evidence:
            self.log.info("  evidence: %s", line)
        if decision.action is not Action.SUCCEED and last_state not in FINISHED:
            self.backend_impl.cancel(run)  # timed out or stuck: nothing may keep running
        app_id = event_application_id(event)
        if app_id:
            self._push_links(context, run, job, app_id)
        if decision.action is Action.SUCCEED:
            self._log_driver_tail(run, always=False)
            links = self._links(run, job, app_id or run.name)
            extra = {"spark_ui_url": links["spark_ui"], "history_url": links["history"], "application_id": app_id}
            extra["emr_job_run_url"] = links["emr_job_run"]
            return self._succeeded(context, self._result(state, run, last_state, job, extra), job)
        if decision.action is Action.RESUBMIT:
            state["attempt"] += 1
            state["escalation"] = decision.escalation.model_dump(mode="json")
            self.log.info("Resubmitting in %.1fs as attempt %d", decision.delay_seconds, state["attempt"])
            if not self.deferrable:
                time.sleep(decision.delay_seconds)
                return self._submit(context, state)
            self.defer(
                trigger=ResubmitAfterTrigger(time.time() + decision.delay_seconds, state), method_name="resubmit"
            )
        self._log_driver_tail(run, always=True)
        self._report = self._result(state, run, last_state, job, {"application_id": app_id})
        _fail(f"{run.name}: {classification.outcome.value}: {classification.reason}", decision.action, decision.reason)

    def _execute_local(self, context: Context) -> Any:
        """spark-submit in this worker, output streamed to the task log. Not deferrable: the driver is
        a child of this process, so the wait cannot move to the triggerer."""
        from airflow_eks_data.hooks.local_spark import LocalSparkHook
        from airflow_eks_data.render.spark_submit import render_spark_submit

        if self.deferrable:
            self.log.info("The local backend runs spark-submit in the worker; it does not defer")
        job = self._prepare(additions=self._additions(context)).job
        self._push_links(context, Run(job.app_name, Target.LOCAL), job, job.app_name)  # nothing to link to locally
        hook = self._local = LocalSparkHook()
        submit = render_spark_submit(job, spark_submit=hook.find_spark_submit())
        if submit.dropped:
            self.log.info("Kubernetes-only settings left out locally: %s", ", ".join(submit.dropped))
        started = time.time()
        code = hook.run(submit, on_line=lambda line: self.log.info("%s", line))
        outcome = Outcome.SUCCEEDED if code == 0 else Outcome.FAILED
        classification = Classification(outcome=outcome, reason=f"spark-submit exited with code {code}")
        decision = decide(
            classification, interruptions_so_far=0, settings=self._retry_settings(job), rng=random.Random()
        )
        record = AttemptRecord.of(1, classification, decision, job.app_name).model_dump(mode="json")
        usage = Usage(None, time.time() - started, None, None, None)
        metrics.attempt(outcome, usage, self._tags(job))
        state = {"records": [record], "started": started, "usage": [usage.to_dict()]}
        result = self._result(state, Run(job.app_name, Target.LOCAL), "COMPLETED" if code == 0 else "FAILED", job)
        if decision.action is not Action.SUCCEED:
            self._report = result
            _fail(f"{job.app_name}: {classification.reason}", decision.action, decision.reason)
        return self._succeeded(context, result, job)

    def _tags(self, job: ResolvedJob) -> dict[str, str]:
        return {"tenant": job.tenant_name, "job": job.job_name, "backend": self._prepared.target}

    def _succeeded(self, context: Context, result: dict[str, Any], job: ResolvedJob) -> dict[str, Any]:
        """Manifests, Asset events and lineage of a successful run; the XCom result."""
        if self.manifest_file:
            manifests = {output: read_manifest(output, self.manifest_file) for output in job.outputs}
            result["manifests"] = manifests
            self._statistics = {output: output_figures(m) for output, m in manifests.items() if m}
        extra = {key: result.get(key) for key in ("name", "outcome", "attempts", "interruptions", "duration_s")}
        extra["attempts"] = len(result["attempts"])
        for output in job.outputs:
            assets.record_events(context, self.outlets, [output], {**extra, **self._statistics.get(output, {})})
        self._report = result
        return result

    def resubmit(self, context: Context, event: dict[str, Any]) -> Any:
        return self._submit(context, event["state"])

    def _retry_settings(self, job: ResolvedJob) -> Any:
        backoff = self.interruption_backoff
        return job.retry_settings(
            interruption_retries=self.interruption_retries,
            retry_on_failure=self.retry_on_failure,
            backoff_base_seconds=backoff,
            backoff_cap_seconds=None if backoff is None else max(backoff, 600.0),
        )

    def _result(
        self,
        state: dict[str, Any],
        run: Run,
        last_state: str | None,
        job: ResolvedJob,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The XCom result, and the run's metrics (once per try that reached a verdict)."""
        summary = outcome_summary([AttemptRecord.model_validate(r) for r in state["records"]])
        local = self._prepared.target is Target.LOCAL
        extra = {**(extra or {}), **({} if local else self.backend_impl.result(run, job))}
        cost = estimate(job, [Usage(**u) for u in state.get("usage", [])], job.profile.cost)
        metrics.run(
            str(summary["outcome"]),
            summary["interruptions"],
            len(state["records"]) - 1,
            cost.amount if cost else None,
            self._tags(job),
        )
        return {
            "backend": self._prepared.target,
            "name": run.name,
            "namespace": run.namespace,
            "tenant": job.tenant_name,
            "job": job.job_name,
            "state": last_state,
            "inputs": job.inputs,
            "outputs": job.outputs,
            **summary,
            "duration_s": round(time.time() - state["started"], 3),
            "cost": cost.to_dict() if cost else None,
            **extra,
        }

    def _links(self, run: Run, job: ResolvedJob, app_id: str) -> dict[str, str | None]:
        ui, target = job.profile.ui, self._prepared.target
        templates = {
            "spark_ui": ui.spark_ui_url if target is Target.SPARK_OPERATOR else None,
            "history": ui.history_server_url if target is not Target.LOCAL else None,
            "emr_job_run": ui.emr_job_run_url if target is Target.EMR_ON_EKS else None,
        }
        region = self.region_name or getattr(getattr(self.backend_impl, "hook", None), "conn_region_name", "") or ""
        return link_urls(templates, namespace=run.namespace, name=run.name, app_id=app_id, region=region)

    def _push_links(self, context: Context, run: Run, job: ResolvedJob, app_id: str) -> None:
        """Store the URLs, and each link's own XCom too: Airflow resolves links when a task ends, and
        this makes them clickable while it is still deferred."""
        urls = self._links(run, job, app_id)
        ti = context["ti"]
        ti.xcom_push(key=LINKS_KEY, value=urls)
        for link in self.operator_extra_links:
            ti.xcom_push(key=link.xcom_key, value=urls.get(link.field) or "")

    def _log_driver_tail(self, run: Run, always: bool) -> None:
        if self.log_tail_lines <= 0 and not always:
            return
        lines = self.backend_impl.log_tail(run, max(self.log_tail_lines, 50 if always else 0))
        if lines:
            self.log.info("Last %d lines of the driver log of %s:\n%s", len(lines), run.name, "\n".join(lines))

    def get_openlineage_facets_on_start(self) -> OperatorLineage:  # type: ignore[type-arg]
        return openlineage.lineage(self._prepared.job, self._prepared.target)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:  # type: ignore[type-arg]
        """Called by the OpenLineage listener, in the process that finished the task."""
        return openlineage.lineage(self._prepared.job, self._prepared.target, self._report, self._statistics)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage:  # type: ignore[type-arg]
        return self.get_openlineage_facets_on_complete(task_instance)

    def on_kill(self) -> None:
        """Cancel the run this task waits on (non-deferrable waits; the trigger does it for deferred ones)."""
        if self._local is not None:
            self._local.kill()
        elif self._run:
            self.log.info("Cancelling %s/%s", self._run.namespace, self._run.name)
            self.backend_impl.cancel(self._run)


def _fail(summary: str, action: Action, reason: str) -> NoReturn:
    """Fail the task; whether Airflow may retry is the outcome policy's call (AIP-105 where available)."""
    fail_fast = action is Action.FAIL_FAST
    message = f"{summary} ({'not retried: ' if fail_fast else ''}{reason})"
    if HAS_RETRY_POLICY:
        raise SparkRunFailed(message, "fail" if fail_fast else "default")
    if fail_fast:
        raise AirflowFailException(message)
    raise AirflowException(message)


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AirflowException("trigger ended without an event")
