"""spark-submit in the worker, its output in the task log: the same DAG on a laptop."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_eks_data.backends.base import Attempt, Connections, WaitSettings
from airflow_eks_data.pipeline import Prepared
from airflow_eks_data.resolve import ResolvedJob
from airflow_eks_data.runs.state import Run
from airflow_eks_data.triggers.spark_submit import SparkSubmitExitTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.local_spark import LocalSparkHook


class LocalBackend:
    can_defer = False

    def __init__(self, connections: Connections) -> None:
        self.log = connections.log
        self.hook: LocalSparkHook | None = None
        self._exits: dict[str, tuple[int, float]] = {}

    def reattach(self, job: ResolvedJob, key: str, remembered: Run | None) -> Run | None:
        return None  # a local run ends with the worker that ran it

    def submit(self, prepared: Prepared, attempt: Attempt) -> Run:
        """Runs spark-submit to its end: the wait that follows only reads the exit code."""
        from airflow_eks_data.hooks.local_spark import LocalSparkHook
        from airflow_eks_data.render.spark_submit import render_spark_submit

        self.log("spark-submit runs in this worker, so the task waits here and does not defer")
        hook = self.hook = LocalSparkHook()
        job = prepared.job
        submit = render_spark_submit(job, spark_submit=hook.find_spark_submit())
        if submit.dropped:
            self.log(f"Kubernetes-only settings left out locally: {', '.join(submit.dropped)}")
        began = time.time()
        code = hook.run(submit, on_line=self.log)
        self._exits[job.app_name] = (code, time.time() - began)
        return Run(name=job.app_name, location="localhost", attempt=attempt.number)

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> SparkSubmitExitTrigger:
        code, running_s = self._exits[run.name]
        return SparkSubmitExitTrigger(run.name, code, running_s, state)

    def cancel(self, run: Run | None) -> None:
        if self.hook is not None:
            self.hook.kill()

    def log_tail(self, run: Run, lines: int) -> list[str]:
        return []  # every line is in the task log already

    def links(self, job: ResolvedJob, run: Run, app_id: str) -> dict[str, str | None]:
        return {}

    def result(self, run: Run, job: ResolvedJob) -> dict[str, Any]:
        return {}
