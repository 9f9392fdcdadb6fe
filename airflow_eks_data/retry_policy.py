"""The outcome policy through Airflow's own retry-policy hook (AIP-105, Airflow 3.3+).

The operator decides whether a failure may spend Airflow retries (an application failure may not;
infrastructure past the interruption budget may). With AIP-105 that decision is handed to Airflow as
a retry policy, so it composes with other policies; on older Airflow the operator raises
`AirflowFailException` for the no-retry case instead.
"""

from __future__ import annotations

from typing import Any, NoReturn

from airflow.sdk.exceptions import AirflowException

try:
    from airflow.sdk.definitions.retry_policy import RetryDecision, RetryPolicy
except ImportError:  # Airflow < 3.3
    RetryDecision = RetryPolicy = None  # type: ignore[assignment,misc]

HAS_RETRY_POLICY = RetryPolicy is not None


class SparkRunFailed(AirflowException):
    """A run that ended badly; `retry_action` is `fail` (no Airflow retry) or `default`."""

    def __init__(self, message: str, retry_action: str) -> None:
        super().__init__(message)
        self.retry_action = retry_action


if HAS_RETRY_POLICY:

    class OutcomeRetryPolicy(RetryPolicy):
        """Fail without retry where the outcome policy says so; Airflow's own retries otherwise."""

        def evaluate(self, exception: BaseException, try_number: int, max_tries: int, context: Any = None) -> Any:
            if getattr(exception, "retry_action", None) == "fail":
                return RetryDecision.fail(str(exception))
            return RetryDecision.default()

        def serialize(self) -> dict[str, Any]:
            return {}

        @classmethod
        def deserialize(cls, data: dict[str, Any]) -> OutcomeRetryPolicy:
            return cls()


def default_retry_policy() -> Any:
    """The operator's default retry policy: `OutcomeRetryPolicy` on Airflow 3.3+, else None."""
    return OutcomeRetryPolicy() if HAS_RETRY_POLICY else None


def fail_task(message: str, fail_fast: bool, reason: str) -> NoReturn:
    """Fail the task; whether Airflow may retry is the outcome policy's call (AIP-105 where available)."""
    from airflow.sdk.exceptions import AirflowFailException

    message = f"{message} ({'not retried: ' if fail_fast else ''}{reason})"
    if HAS_RETRY_POLICY:
        raise SparkRunFailed(message, "fail" if fail_fast else "default")
    if fail_fast:
        raise AirflowFailException(message)
    raise AirflowException(message)
