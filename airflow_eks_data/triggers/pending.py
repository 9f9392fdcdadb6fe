"""Say why a SparkApplication's pods are still unscheduled, long before `startup_timeout` ends the wait.

At `explain_after` seconds of pending (the driver, counted from submission; executors, from when the
wait first saw one pending while the driver ran) the trigger reads the pod and its events, writes
one line per cause to the task log, counts `startup.unschedulable`, and, if the profile says so,
ends the wait. It looks again every `explain_after` seconds, so a changed cause (the NodePool fixed,
the quota now full) gets its own line. After a triggerer restart a line may be written again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_eks_data.outcomes import PendingExplanation, explain_pending, unschedulable_classification
from airflow_eks_data.outcomes.model import Classification
from airflow_eks_data.utils import metrics

if TYPE_CHECKING:
    from airflow_eks_data.hooks.spark_operator import AsyncSparkOperatorHook

NOT_STARTED = frozenset({"", "SUBMITTED", "PENDING_RERUN", "SUBMISSION_FAILED"})
RUNNING = "RUNNING"


def executor_states(application: Mapping[str, Any]) -> dict[str, str]:
    """`status.executorState`: executor pod name -> PENDING, RUNNING, COMPLETED, FAILED, UNKNOWN."""
    states = (application.get("status") or {}).get("executorState") or {}
    return {str(name): str(state) for name, state in states.items()} if isinstance(states, dict) else {}


class PendingExplainer:
    """One wait's explanations: what was said (role, cause), and when to look next."""

    def __init__(
        self,
        explain_after: float,
        fail_fast: bool,
        started_at: float,
        tags: Mapping[str, str] | None,
        log: Any,
    ) -> None:
        self.explain_after = explain_after
        self.fail_fast = fail_fast
        self.started_at = started_at
        self.tags = dict(tags or {})
        self.log = log
        self.said: set[tuple[str, str]] = set()
        self.last_line: str | None = None
        """The driver's latest explanation, for the startup timeout's evidence."""
        self._executors_since: float | None = None
        self._next_look = started_at + explain_after

    def wake_at(self, now: float) -> float | None:
        """When the wait should wake for the next look, if one is due later (None: nothing to look at)."""
        return self._next_look if self._next_look > now else None

    async def check(
        self, hook: AsyncSparkOperatorHook, application: dict[str, Any], state: str, now: float
    ) -> Classification | None:
        """Explain what is still pending, when due; a classification when the profile fails fast."""
        explanation = await self._look(hook, application, state, now)
        if explanation is None:
            return None
        if explanation.role == "driver":
            self.last_line = explanation.line
        key = (explanation.role, explanation.cause.value)
        if key not in self.said:
            self.said.add(key)
            self.log.warning("%s/%s: %s", application["metadata"]["namespace"], _name(application), explanation.line)
            metrics.unschedulable(explanation.cause.value, explanation.role, self.tags)
        if self.fail_fast and self._blocks_the_run(explanation, application):
            return unschedulable_classification(explanation, self.explain_after)
        return None

    async def _look(
        self, hook: AsyncSparkOperatorHook, application: dict[str, Any], state: str, now: float
    ) -> PendingExplanation | None:
        if state in NOT_STARTED:
            self._executors_since = None
            if now < self._next_look:
                return None
            self._next_look = now + self.explain_after
            evidence = await hook.driver_evidence(application)
            return explain_pending(
                "driver", evidence["driver_pod"], evidence["events"], now - self.started_at, application=application
            )
        if state != RUNNING:
            return None
        executors = executor_states(application)
        pending = sorted(name for name, value in executors.items() if value == "PENDING")
        if not pending:
            self._executors_since = None
            return None
        if self._executors_since is None:
            self._executors_since = now
            self._next_look = now + self.explain_after
        if now < self._next_look:
            return None
        self._next_look = now + self.explain_after
        pod, events = await hook.pod_and_events(pending[0], application["metadata"]["namespace"])
        return explain_pending(
            "executors", pod, events, now - self._executors_since, pending=len(pending), total=len(executors)
        )

    @staticmethod
    def _blocks_the_run(explanation: PendingExplanation, application: Mapping[str, Any]) -> bool:
        """A pending driver blocks the run; pending executors only when none runs (no progress at all)."""
        if explanation.role == "driver":
            return True
        return RUNNING not in executor_states(application).values()


def _name(application: Mapping[str, Any]) -> str:
    return str(application["metadata"]["name"])


__all__ = ["PendingExplainer"]
