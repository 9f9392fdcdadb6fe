"""What happens to a SparkApplication's submission attempts, chosen per application by tests.

A scenario is a sequence of outcomes, one per submission attempt (the last one repeats), so
"spot interruption, then success" exercises operator retries (``restartPolicy: OnFailure``) and a
provider's own resubmission alike. Times are simulated seconds (see ``SimClock``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SCENARIO_KEY = "kubeapi.test/scenario"


@dataclass(frozen=True)
class Outcome:
    """Timing shared by every outcome: how long the driver stays pending, then runs."""

    pending_for: float = 1.0
    run_for: float = 5.0
    executors: int | None = None  # default: spec.executor.instances
    log_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Succeed(Outcome):
    """The driver exits 0. ``executor_losses`` executors are reclaimed (spot) on the way."""

    executor_losses: int = 0


@dataclass(frozen=True)
class Hold(Outcome):
    """The driver runs until the application is deleted (cancellation, load tests)."""

    run_for: float = math.inf


@dataclass(frozen=True)
class DriverError(Outcome):
    """The user's code fails: the driver container exits non-zero."""

    exit_code: int = 1
    error: str = "ValueError: bad input path s3://bucket/missing/"


@dataclass(frozen=True)
class OOMKilled(Outcome):
    """The driver container is killed by the kernel OOM killer (137, reason OOMKilled)."""


@dataclass(frozen=True)
class SpotInterruption(Outcome):
    """Karpenter reclaims the driver's spot node: events, drain by eviction, SIGTERM exit 143."""

    notice: float = 1.0  # SpotInterrupted warning -> eviction starts
    grace: float = 2.0  # eviction -> container exits 143
    linger: float = 1.0  # Failed pod stays visible this long before it is removed


@dataclass(frozen=True)
class NodeLost(Outcome):
    """The driver's node disappears without a drain; the pod vanishes (``driver pod not found``).

    With ``unknown_for`` > 0 the pod first turns phase Unknown, so the app shows UNKNOWN.
    """

    unknown_for: float = 0.0


@dataclass(frozen=True)
class SubmissionFailure(Outcome):
    """spark-submit fails inside the operator: no pods, state SUBMISSION_FAILED."""

    message: str = (
        'failed to run spark-submit: exit status 1: Exception in thread "main" '
        "io.fabric8.kubernetes.client.KubernetesClientException: Failure executing: POST"
    )


@dataclass(frozen=True)
class ImagePullBackOff(Outcome):
    """The driver image cannot be pulled; the app stays SUBMITTED (never terminal by itself).

    With ``recover_after`` the image appears after that long and the driver then succeeds.
    """

    image: str | None = None
    recover_after: float | None = None


@dataclass(frozen=True)
class PendingCapacity(Outcome):
    """No node fits yet: ``FailedScheduling`` events until Karpenter's node is ready, then success."""

    provision_after: float = 30.0


@dataclass(frozen=True)
class NoNodePool(Outcome):
    """No node fits and no Karpenter NodePool matches: the pods stay Pending for good (until deleted),
    with the scheduler's ``FailedScheduling`` and Karpenter's "incompatible with nodepool" events every
    10 s. With ``executors_only`` the driver runs and its executors are the pods left Pending."""

    executors_only: bool = False
    nodepool: str = "spark-on-demand"


@dataclass(frozen=True)
class QueueFull(Outcome):
    """YuniKorn's queue cannot admit the application: the driver stays Pending for good, with
    YuniKorn's "queued and waiting for allocation" event and a ``PodScheduled=False`` "does not fit
    in queue" condition."""

    queue: str = "root.spark.datalake"


@dataclass(frozen=True)
class QuotaExceeded(SubmissionFailure):
    """A ResourceQuota refuses the driver pod: spark-submit fails (``SUBMISSION_FAILED``, the API's
    "exceeded quota" text in ``errorMessage``) and a ``FailedCreate`` warning lands on the
    SparkApplication. Each retry the restartPolicy allows fails the same way."""

    quota: str = "compute-quota"
    message: str = (
        "failed to run spark-submit: exit status 1: io.fabric8.kubernetes.client.KubernetesClientException: "
        "Failure executing: POST at: https://172.20.0.1:443/api/v1/namespaces/datalake/pods. Message: Forbidden! "
        "pods is forbidden: exceeded quota: compute-quota, requested: limits.cpu=1200m, used: limits.cpu=32, "
        "limited: limits.cpu=32."
    )

    def refusal(self, pod: str) -> str:
        """The ``FailedCreate`` event's message for the refused pod."""
        return (
            f'Error creating: pods "{pod}" is forbidden: exceeded quota: {self.quota}, requested: limits.cpu=1200m,'
            "limits.memory=2816Mi, used: limits.cpu=32,limits.memory=120Gi, limited: limits.cpu=32,limits.memory=128Gi"
        )


BUILTIN: dict[str, Outcome] = {
    "success": Succeed(),
    "hold": Hold(),
    "driver-error": DriverError(),
    "oom": OOMKilled(),
    "spot": SpotInterruption(),
    "node-lost": NodeLost(),
    "node-lost-unknown": NodeLost(unknown_for=3.0),
    "executor-loss": Succeed(executor_losses=2),
    "submission-failed": SubmissionFailure(),
    "image-pull-backoff": ImagePullBackOff(),
    "pending-capacity": PendingCapacity(),
    "no-nodepool": NoNodePool(),
    "executors-no-nodepool": NoNodePool(executors_only=True),
    "queue-full": QueueFull(),
    "quota-exceeded": QuotaExceeded(),
}


def parse(value: str) -> tuple[Outcome, ...] | None:
    """Parse a label/annotation value: builtin names joined by ``,`` or ``.`` (``spot.success``)."""
    names = [part.strip() for part in value.replace(",", ".").split(".") if part.strip()]
    if not names or any(name not in BUILTIN for name in names):
        return None
    return tuple(BUILTIN[name] for name in names)
