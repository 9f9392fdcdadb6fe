"""What the backends collect while waiting, as plain API dicts, so classification needs no clients.

Every container is frozen and JSON-serialisable (`to_dict()` / `model_validate()` round-trip), because
the evidence is gathered in a trigger and handed to the operator through a trigger event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from airflow_eks_data.outcomes.model import FrozenModel
from airflow_eks_data.targets import Target

JsonDict = dict[str, Any]


class _Evidence(FrozenModel):
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class KubeEvidence(_Evidence):
    """What Kubernetes says about the driver: its last seen pod, events, and its node.

    Shared by both backends; on EMR on EKS it is optional (EMR has no field for spot loss).
    """

    driver_pod: JsonDict | None = Field(
        None, description="Last seen driver Pod as the API serialises it (camelCase), or None if never seen."
    )
    events: tuple[JsonDict, ...] = Field(
        (),
        description="core/v1 or events.k8s.io/v1 Events on the driver pod, its Node/NodeClaim, the "
        "application and (optionally) executor pods, during this attempt.",
    )
    node_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels of the driver's node, captured while it existed (spot nodes vanish).",
    )
    node_taints: tuple[JsonDict, ...] = Field(
        (), description="`spec.taints` of the driver's node as last seen (`key`, `value`, `effect`)."
    )


class SparkOperatorEvidence(KubeEvidence):
    """A SparkApplication wait: the status snapshots in the order seen, plus the Kubernetes evidence.

    Record a snapshot whenever `applicationState` changes: the operator wipes `errorMessage` when it
    retries from FAILING, so a snapshot taken then is the only place the cause survives.
    """

    kind: Literal[Target.SPARK_OPERATOR] = Target.SPARK_OPERATOR
    snapshots: tuple[JsonDict, ...] = Field((), description="`status` objects of the SparkApplication, oldest first.")
    app_deleted: bool = Field(
        False, description="The SparkApplication disappeared (404) while we waited: someone deleted it."
    )


class EmrEvidence(KubeEvidence):
    """An EMR on EKS wait: the last DescribeJobRun `jobRun`, plus Kubernetes evidence when readable."""

    kind: Literal[Target.EMR_ON_EKS] = Target.EMR_ON_EKS
    job_run: JsonDict = Field(description="`jobRun` from DescribeJobRun (state, failureReason, stateDetails).")


class EmrServerlessEvidence(_Evidence):
    """An EMR Serverless wait: the last GetJobRun `jobRun`, and its attempts when the service retried it."""

    kind: Literal[Target.EMR_SERVERLESS] = Target.EMR_SERVERLESS
    job_run: JsonDict = Field(description="`jobRun` from GetJobRun (state, stateDetails, attempt, utilisation).")
    attempts: tuple[JsonDict, ...] = Field(
        (), description="ListJobRunAttempts summaries, read only when `jobRun.attempt` > 1 (a service retry)."
    )


class TimedOut(_Evidence):
    """Our own deadline passed (the backend then cancels the run)."""

    kind: Literal["timed_out"] = "timed_out"
    stage: Literal["startup", "run"] = Field(
        "run", description="`startup`: pods never got capacity within startup_timeout; `run`: job timeout."
    )
    timeout_seconds: float = Field(ge=0)
    last_state: str | None = None
    detail: str | None = Field(None, description="What was still pending, e.g. the last FailedScheduling.")


class Cancelled(_Evidence):
    """Somebody stopped the run: a user in the UI (task killed), or an external delete/CancelJobRun."""

    kind: Literal["cancelled"] = "cancelled"
    by: Literal["airflow", "external"] = Field(
        "airflow", description="`airflow`: on_kill / task marked; `external`: deleted or cancelled elsewhere."
    )
    last_state: str | None = None
    detail: str | None = None


Evidence = SparkOperatorEvidence | EmrEvidence | EmrServerlessEvidence | TimedOut | Cancelled

_EVIDENCE_ADAPTER: TypeAdapter[Evidence] = TypeAdapter(Annotated[Evidence, Field(discriminator="kind")])


def evidence_from_dict(data: Mapping[str, Any]) -> Evidence:
    """Rebuild evidence from its `to_dict()` form (trigger event payloads, fixtures), by its `kind`."""
    return _EVIDENCE_ADAPTER.validate_python(data)
