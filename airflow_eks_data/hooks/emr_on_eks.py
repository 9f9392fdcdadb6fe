"""EMR on EKS (`emr-containers`) access on the amazon provider's AWS hooks and `aws` connection.

Credentials, role assumption, region and endpoint come from the connection through `AwsBaseHook`
(never a hand-built boto3 session), so whatever works for the amazon provider's own operators works
here. `EmrEksHook` serves the worker: upload pod templates, submit, find a run again, cancel.
`AsyncEmrEksHook` serves the triggerer (aiobotocore): the paginated ListJobRuns sweep and the
DescribeJobRun of runs that ended.

Every call is retried on the one transient-error rule (`outcomes.retrying.is_transient`: 408, 429,
AWS throttling codes, 5xx, dropped connections) with full-jitter backoff; StartJobRun also waits out
quota and a full virtual-cluster queue (`submission.back_pressure`). Anything else is raised at once,
because it would fail the same way again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from airflow_eks_data.hooks.aws_api import (
    NOT_FOUND,
    READ_RETRIES,
    AsyncJobRunHook,
    JobRunListing,
    RetryingAwsHook,
    SubmissionFailed,
    error_code,
    jsonable,
    log_places,
)
from airflow_eks_data.outcomes.retrying import Backoff
from airflow_eks_data.outcomes.states import EMR_JOB_RUN
from airflow_eks_data.outcomes.submission import SUBMIT_RETRIES

__all__ = [
    "NOT_FOUND",
    "READ_RETRIES",
    "AsyncEmrEksHook",
    "EmrEksHook",
    "JobRunListing",
    "SubmissionFailed",
    "error_code",
    "jsonable",
    "log_locations",
]

log = logging.getLogger(__name__)

ENDING = EMR_JOB_RUN.terminal | {"CANCEL_PENDING"}
"""States in which CancelJobRun is refused because the run is already over or being cancelled."""


def log_locations(
    monitoring: Mapping[str, Any] | None, virtual_cluster_id: str, job_run_id: str, region: str | None
) -> dict[str, Any]:
    """Where EMR on EKS writes this run's logs, from the request's `monitoringConfiguration`.

    EMR's layout: CloudWatch streams `<prefix>/<virtual cluster>/jobs/<job run>/...` and S3 objects
    under `<logUri>/<virtual cluster>/jobs/<job run>/`.
    """
    monitoring = monitoring or {}
    cloudwatch = monitoring.get("cloudWatchMonitoringConfiguration")
    path = f"{virtual_cluster_id}/jobs/{job_run_id}"
    return log_places(cloudwatch, monitoring.get("s3MonitoringConfiguration"), path, region)


class _EmrEksBase(RetryingAwsHook):
    hook_name = "EMR on EKS (airflow-eks-data)"
    aws_service = "emr-containers"
    ending = ENDING
    run_keys = ("virtualClusterId", "id")


class EmrEksHook(_EmrEksBase):
    """Worker-side EMR on EKS calls (boto3)."""

    def upload_pod_templates(self, templates: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """Write each pod template (YAML) to its `s3://` URI, skipping keys that already exist.

        The renderer names templates by a hash of their content, so an existing key already holds
        exactly this template: a retried attempt or a thousand runs of one job upload it once.
        Returns the URIs written.
        """
        import yaml
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        s3 = S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify, config=self.config)
        written: list[str] = []
        for uri, pod in templates.items():
            bucket, key = S3Hook.parse_s3_url(uri)
            if self._retrying(partial(s3.check_for_key, key, bucket), f"HeadObject {uri}"):
                continue
            body = yaml.safe_dump(dict(pod), sort_keys=False)
            self._retrying(partial(s3.load_string, body, key, bucket, replace=True), f"PutObject {uri}")
            written.append(uri)
        return written

    def start_job_run(self, request: Mapping[str, Any], settings: Backoff = SUBMIT_RETRIES) -> dict[str, Any]:
        """StartJobRun, idempotent through the request's `clientToken`: a repeated call, after a lost
        response or a worker crash, returns the run the first call started. Back-pressure is retried
        (default: 8 tries, 2 s doubling to 60 s); raises `SubmissionFailed` when it gives up."""
        if not request.get("clientToken"):
            raise ValueError("StartJobRun needs a deterministic clientToken for idempotent submission")
        response = self._submit(lambda: self.conn.start_job_run(**request), "StartJobRun", settings)
        return jsonable({key: response[key] for key in ("id", "name", "arn", "virtualClusterId") if key in response})  # type: ignore[no-any-return]

    def list_job_runs(
        self,
        virtual_cluster_id: str,
        *,
        name: str | None = None,
        states: Collection[str] | None = None,
        created_after: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """ListJobRuns with its server-side filters, every page."""
        params: dict[str, Any] = {"virtualClusterId": virtual_cluster_id}
        if name:
            params["name"] = name
        if states:
            params["states"] = sorted(states)
        if created_after is not None:
            params["createdAfter"] = created_after
        return self._pages("list_job_runs", "ListJobRuns", "jobRuns", params)

    def find_job_runs(
        self,
        virtual_cluster_id: str,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        states: Collection[str] | None = None,
        created_after: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Runs of this name whose tags include `tags`, newest first: how a retry finds the run an
        earlier try started (ListJobRuns cannot filter by tag, so tags are matched here)."""
        runs = self.list_job_runs(virtual_cluster_id, name=name, states=states, created_after=created_after)
        wanted = dict(tags or {})
        matching = [
            run
            for run in runs
            if (name is None or run.get("name") == name)
            and all((run.get("tags") or {}).get(k) == v for k, v in wanted.items())
        ]
        return sorted(matching, key=lambda run: str(run.get("createdAt") or ""), reverse=True)

    def describe_job_run(self, virtual_cluster_id: str, job_run_id: str) -> dict[str, Any] | None:
        """DescribeJobRun's `jobRun`, or None if there is no such run in that virtual cluster."""
        run: dict[str, Any] | None = self._or_none(
            lambda: self.conn.describe_job_run(virtualClusterId=virtual_cluster_id, id=job_run_id),
            "DescribeJobRun",
            "jobRun",
        )
        return run

    def describe_virtual_cluster(self, virtual_cluster_id: str) -> dict[str, Any] | None:
        """DescribeVirtualCluster's `virtualCluster` (state, schedulerConfiguration, schedulerStatus), or None
        (the service answers an unknown id with a ValidationException)."""
        cluster: dict[str, Any] | None = self._or_none(
            lambda: self.conn.describe_virtual_cluster(id=virtual_cluster_id),
            "DescribeVirtualCluster",
            "virtualCluster",
            missing=(NOT_FOUND, "ValidationException"),
        )
        return cluster

    def cancel_job_run(self, virtual_cluster_id: str, job_run_id: str) -> bool:
        """CancelJobRun; False if the run had already ended (or never existed), True if cancelled."""
        cancelled = self._cancel(
            lambda: self.conn.cancel_job_run(virtualClusterId=virtual_cluster_id, id=job_run_id),
            lambda: self.describe_job_run(virtual_cluster_id, job_run_id),
        )
        if cancelled:
            log.info("Cancelled EMR job run %s in virtual cluster %s", job_run_id, virtual_cluster_id)
        return cancelled


class AsyncEmrEksHook(_EmrEksBase, AsyncJobRunHook):
    """Triggerer-side EMR on EKS calls (aiobotocore, through `AwsBaseHook.get_async_conn`).

    Methods take an open `client` (from `client()`) so that a poller reuses one connection pool for
    its lifetime; without one they open a client for the call.
    """

    async def list_job_runs(
        self,
        virtual_cluster_id: str,
        created_after: datetime | None = None,
        states: Collection[str] | None = None,
        *,
        client: Any = None,
        page_size: int | None = None,
        on_page: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> JobRunListing:
        """Every page of ListJobRuns filtered by creation time and state. Each page is retried on its
        own, so a throttled page does not restart the sweep; `on_page` sees each page as it arrives,
        so runs on the first pages are settled without waiting for the last."""
        params: dict[str, Any] = {"virtualClusterId": virtual_cluster_id}
        if created_after is not None:
            params["createdAfter"] = created_after
        if states:
            params["states"] = sorted(states)
        if page_size:
            params["maxResults"] = page_size
        return await self._apages(client, "list_job_runs", "ListJobRuns", "jobRuns", params, on_page)
