"""What the two EMR runners share: the task's tags on each run, reattaching by them, submission's
verdict, the trigger, cancel and links. A subclass says how its runs are described and found.

The tags are the only link from a task to a run that outlives the worker: the task key finds the
run again, the try and attempt say which one it was (`docs/architecture.md`, step 5).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from airflow_eks_data.backends.base import (
    ATTEMPT_MARK,
    Attempt,
    Connections,
    HeldBack,
    WaitSettings,
    attempt_marks,
)
from airflow_eks_data.links.urls import link_urls
from airflow_eks_data.outcomes.states import StateTable
from airflow_eks_data.runs.state import Run
from airflow_eks_data.triggers.polled_job_run import PolledJobRunTrigger

if TYPE_CHECKING:
    from airflow_eks_data.hooks.aws_api import RetryingAwsHook
    from airflow_eks_data.pipeline import Prepared
    from airflow_eks_data.resolve import ResolvedJob

ADOPT_WINDOW = timedelta(days=2)
"""How far back a retry looks for its task's job runs (ListJobRuns cannot filter by tag)."""

H = TypeVar("H", bound="RetryingAwsHook")


def tagged_request(prepared: Prepared, attempt: Attempt) -> dict[str, Any]:
    """The StartJobRun request of this attempt: its client token is the attempt's deterministic name,
    so a worker that dies after StartJobRun and repeats it gets the same run back, not a second one."""
    request = dict(prepared.document["request"])
    request["clientToken"] = prepared.job.app_name
    request["tags"] = {**request.get("tags", {}), **attempt_marks(attempt)}
    return request


class AwsJobRunBackend(Generic[H]):
    """A runner whose run is a job run tagged with the task, in a location (virtual cluster, application)."""

    can_defer = True
    states: ClassVar[StateTable]
    trigger_type: ClassVar[type[PolledJobRunTrigger]]

    def __init__(self, connections: Connections) -> None:
        self.aws_conn_id = connections.aws_conn_id
        self.region_name = connections.region_name
        self.log = connections.log

    @cached_property
    def hook(self) -> H:
        return self._hook_type()(aws_conn_id=self.aws_conn_id, region_name=self.region_name)

    def _hook_type(self) -> type[H]:
        """The worker's hook class, imported when first needed: boto3 and the amazon provider are slow
        to import, and DAG files never need them."""
        raise NotImplementedError

    def _job_run(self, location: str, run_id: str) -> Mapping[str, Any] | None:
        """The run as the service describes it now (with its state), or None."""
        raise NotImplementedError

    def _location(self, job: ResolvedJob) -> str:
        raise NotImplementedError

    def _tagged_run(
        self, location: str, key: str, states: Collection[str], since: datetime
    ) -> tuple[str, Mapping[str, str]] | None:
        """The newest run in `states` created after `since` and tagged with task key `key`: its id and tags."""
        raise NotImplementedError

    def reattach(self, job: ResolvedJob, key: str, remembered: Run | None) -> Run | None:
        adoptable = self.states.active | self.states.succeeded
        if remembered is not None:
            job_run = self._job_run(remembered.location, remembered.name)
            if job_run is not None and job_run.get("state") in adoptable:
                return remembered
        location = self._location(job)
        since = datetime.now(UTC) - ADOPT_WINDOW
        for states in (self.states.active, self.states.succeeded):
            found = self._tagged_run(location, key, states, since)
            if found is not None:
                run_id, tags = found
                return Run(name=run_id, location=location, attempt=int(tags.get(ATTEMPT_MARK, 1)))
        return None

    @contextmanager
    def _submission(self, held: str) -> Iterator[None]:
        """`SubmissionFailed` as the operator needs it: back-pressure holds the attempt back (`held`
        names it), a refused request fails the task without retries."""
        from airflow_eks_data.hooks.aws_api import SubmissionFailed

        try:
            yield
        except SubmissionFailed as exc:
            if exc.verdict.infrastructure:
                raise HeldBack(f"{held}: {exc.verdict.reason}") from exc
            raise AirflowFailException(f"StartJobRun refused the request: {exc.verdict.reason}") from exc

    def trigger(self, run: Run, wait: WaitSettings, state: dict[str, Any]) -> PolledJobRunTrigger:
        connection = (self.aws_conn_id, self.region_name)
        return self.trigger_type(run.location, run.name, *connection, state=state, **wait.trigger_kwargs())

    def cancel(self, run: Run | None) -> None:
        if run is not None:
            self.hook.cancel_job_run(run.location, run.name)  # type: ignore[attr-defined]

    def log_tail(self, run: Run, lines: int) -> list[str]:
        return []  # driver logs are in CloudWatch, S3 (or the managed store): see `log_locations` in the result

    def links(self, job: ResolvedJob, run: Run, app_id: str) -> dict[str, str | None]:
        ui = job.profile.ui
        templates = {"history": ui.history_server_url, "emr_job_run": ui.emr_job_run_url}
        region = self.region_name or self.hook.conn_region_name or ""
        return link_urls(templates, namespace=run.location, name=run.name, app_id=app_id, region=region)
