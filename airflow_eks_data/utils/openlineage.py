"""OpenLineage for `SparkOnEksOperator`: the run's datasets and facets, and the Spark keys that make the
Spark integration's events children of the Airflow task's run (the provider's own helpers do the work)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from airflow_eks_data.observability.datasets import dataset_name

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_eks_data.resolve import ResolvedJob, RunAdditions

FACET = "airflowEksData"


@cache
def _facet_classes() -> dict[str, type]:
    """`SparkOnEksRunFacet` and `SparkOnEksJobFacet` (served as this module's attributes), built on first
    use: their base classes' package, `openlineage.client`, imports its HTTP transports (requests, httpx),
    a quarter of a second that parsing a DAG and submitting a job do not need."""
    from attrs import define
    from openlineage.client.facet_v2 import JobFacet, RunFacet

    @define
    class SparkOnEksRunFacet(RunFacet):
        """Where the Spark run happened and how many attempts it took."""

        backend: str
        application: str | None = None
        """SparkApplication name or EMR job run id of the last attempt."""
        namespace: str | None = None
        """Kubernetes namespace, or EMR virtual cluster id."""
        applicationId: str | None = None  # OpenLineage facets are camelCase
        tenant: str | None = None
        attempts: int = 0
        interruptions: int = 0
        outcome: str | None = None

    @define
    class SparkOnEksJobFacet(JobFacet):
        """The job spec and the platform profile it ran under."""

        job: str
        tenant: str
        profile: str
        backend: str

    classes: dict[str, type] = {"SparkOnEksRunFacet": SparkOnEksRunFacet, "SparkOnEksJobFacet": SparkOnEksJobFacet}
    for name, cls in classes.items():
        cls.__module__, cls.__qualname__ = __name__, name  # importable (and documented) from here
    return classes


def __getattr__(name: str) -> Any:
    if name in ("SparkOnEksRunFacet", "SparkOnEksJobFacet"):
        return _facet_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def spark_conf(
    job_conf: Mapping[str, str], context: Context, parent: bool | None, transport: bool | None
) -> dict[str, str]:
    """The OpenLineage keys to add for this attempt. Each switch: the operator's argument, else the
    profile's, else the provider's `[openlineage] spark_inject_*`. Keys already set are never touched
    (the provider's helpers skip a group when any of its keys is present)."""
    from airflow.providers.openlineage import conf

    if conf.is_disabled():  # before importing the helpers: they load the OpenLineage client (~0.3 s)
        return {}
    from airflow.providers.openlineage.utils.spark import (
        inject_parent_job_information_into_spark_properties,
        inject_transport_information_into_spark_properties,
    )

    properties: dict[str, Any] = dict(job_conf)
    if conf.spark_inject_parent_job_info() if parent is None else parent:
        properties = inject_parent_job_information_into_spark_properties(properties, context)
    if conf.spark_inject_transport_info() if transport is None else transport:
        properties = inject_transport_information_into_spark_properties(properties, context)
    return {key: str(value) for key, value in properties.items() if key not in job_conf}


def lineage(
    job: ResolvedJob,
    backend: str,
    result: Mapping[str, Any] | None = None,
    statistics: Mapping[str, Mapping[str, int]] | None = None,
) -> OperatorLineage:  # type: ignore[type-arg]
    """Datasets from the job's `inputs`/`outputs`; facets from the result once there is one."""
    from airflow.providers.common.compat.openlineage.facet import (
        InputDataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    def outputs(locations: Sequence[str]) -> list[Any]:
        datasets = []
        for location in locations:
            name, figures = dataset_name(location), (statistics or {}).get(location)
            facets: dict[str, Any] = {}
            if figures:
                facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(
                    rowCount=figures.get("rows"), size=figures.get("bytes"), fileCount=figures.get("files")
                )
            datasets.append(OutputDataset(namespace=name.namespace, name=name.name, outputFacets=facets))
        return datasets

    inputs = [InputDataset(namespace=n.namespace, name=n.name) for n in map(dataset_name, job.inputs)]
    result = result or {}
    facets = _facet_classes()
    run = facets["SparkOnEksRunFacet"](
        backend=backend,
        application=result.get("name") or job.app_name,
        namespace=result.get("location") or job.namespace,
        applicationId=result.get("application_id"),
        tenant=job.tenant_name,
        attempts=len(result.get("attempts") or ()),
        interruptions=int(result.get("interruptions") or 0),
        outcome=result.get("outcome"),
    )
    job_facet = facets["SparkOnEksJobFacet"](
        job=job.job_name, tenant=job.tenant_name, profile=job.profile.name, backend=backend
    )
    return OperatorLineage(
        inputs=inputs, outputs=outputs(job.outputs), run_facets={FACET: run}, job_facets={FACET: job_facet}
    )


def run_additions(job: ResolvedJob, context: Context, parent: bool | None, transport: bool | None) -> RunAdditions:
    """Labels naming the task instance (on every pod) and this try's OpenLineage keys; each switch
    is the operator's argument, else the profile's `lineage`."""
    from airflow_eks_data.jobspec.names import to_label_value
    from airflow_eks_data.render.pod_template import DAG_LABEL, RUN_LABEL, TASK_LABEL
    from airflow_eks_data.resolve import RunAdditions

    ti, lineage = context["ti"], job.profile.lineage
    conf = spark_conf(
        job.spark_conf,
        context,
        lineage.inject_parent_job_info if parent is None else parent,
        lineage.inject_transport_info if transport is None else transport,
    )
    labels = {DAG_LABEL: ti.dag_id, TASK_LABEL: ti.task_id, RUN_LABEL: ti.run_id}
    return RunAdditions(labels={key: to_label_value(value) for key, value in labels.items()}, spark_conf=conf)
