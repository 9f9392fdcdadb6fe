"""What a run tells Airflow: per attempt, the verdict and its metrics; at the end, the XCom result,
the run's metrics, the driver log tail, the outputs' manifests and their Asset events."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_eks_data.backends.registry import registration
from airflow_eks_data.links.spark import push_links
from airflow_eks_data.links.urls import result_links
from airflow_eks_data.observability.usage import Usage
from airflow_eks_data.runs.result import xcom_result
from airflow_eks_data.runs.steps import Hold
from airflow_eks_data.utils import assets, metrics
from airflow_eks_data.utils.manifests import read_manifests

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_eks_data.backends.base import Backend
    from airflow_eks_data.resolve import ResolvedJob
    from airflow_eks_data.runs.state import Run, RunState
    from airflow_eks_data.runs.steps import Finished, Resubmit


@dataclass
class RunReport:
    backend: Backend
    job: ResolvedJob
    target: str
    log: logging.Logger | Any
    log_tail_lines: int = 100
    manifest_file: str | None = None
    statistics: dict[str, dict[str, int]] = field(default_factory=dict)
    """Files, bytes and rows per output, from the manifests (for lineage)."""

    @property
    def tags(self) -> dict[str, str]:
        return {"tenant": self.job.tenant_name, "job": self.job.job_name, "backend": str(self.target)}

    def links(self, context: Context, links: Iterable[Any], run: Run, app_id: str) -> None:
        """The run's links in XCom, clickable while the task is deferred (see `links.spark`)."""
        push_links(context["ti"], links, self.backend.links(self.job, run, app_id))

    def submitted(self, run: Run, seconds: float) -> None:
        metrics.submitted(seconds, self.tags)
        verb = "Submitted" if run.created else "Found already submitted"
        where = registration(self.target).location
        self.log.info("%s %s (attempt %d) in %s %s", verb, run.name, run.attempt, where, run.location)

    def resubmitting(self, action: Resubmit | Hold, state: RunState) -> None:
        if isinstance(action, Hold):
            metrics.held(self.tags)
            self.log.info(
                "Held back (%s): attempt %d goes again in %.1fs", action.reason, state.attempt, action.delay_seconds
            )
        else:
            self.log.info("Resubmitting in %.1fs as attempt %d", action.delay_seconds, state.attempt)

    def attempt(self, run: Run, finished: Finished, decision: str) -> None:
        verdict = finished.classification
        metrics.attempt(verdict.outcome, Usage(**finished.usage), self.tags)
        self.log.info(
            "Attempt %d (%s): %s: %s; %s", run.attempt, run.name, verdict.outcome.value, verdict.reason, decision
        )
        for line in verdict.evidence:
            self.log.info("  evidence: %s", line)

    def result(
        self, state: RunState, run: Run, last_state: str | None, app_id: str | None, succeeded: bool, now: float
    ) -> dict[str, Any]:
        """The XCom result (links only on success: a failed run's UI is gone), counted in the metrics."""
        extra = {**self.backend.result(run, self.job), "application_id": app_id}
        if succeeded:
            extra |= result_links(self.backend.links(self.job, run, app_id or run.name))
        result = xcom_result(state, run, last_state, self.job, now, extra)
        metrics.run(result, self.tags)
        return result

    def driver_tail(self, run: Run, always: bool) -> None:
        """The end of the driver log (at least 50 lines on failure; `log_tail_lines` 0 turns it off otherwise)."""
        if self.log_tail_lines <= 0 and not always:
            return
        lines = self.backend.log_tail(run, max(self.log_tail_lines, 50 if always else 0))
        if lines:
            self.log.info("Last %d lines of the driver log of %s:\n%s", len(lines), run.name, "\n".join(lines))

    def outputs(self, context: Context, outlets: Any, result: dict[str, Any]) -> None:
        """Manifests into the result, and one Asset event per output."""
        if self.manifest_file:
            result["manifests"], self.statistics = read_manifests(self.job.outputs, self.manifest_file)
        assets.record_outputs(context, outlets, self.job.outputs, result, self.statistics)
