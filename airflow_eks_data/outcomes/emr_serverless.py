"""Classify a finished EMR Serverless job run from GetJobRun's `jobRun` (and its attempts).

EMR Serverless has no structured failure reason: `stateDetails` is all there is. Wording that blames
the service (capacity, quota, throttling, an internal error, lost workers) is an interruption and the
attempt is resubmitted; anything else, and in particular wording that names the application (an exit
code, a missing class, an exception, access denied on the entry point), fails fast, because running
the same code again fails the same way. The service's causes are read first: an exception the
application printed because S3 throttled it is still throttling. The wording is matched loosely (it is not a documented
contract); a FAILED run nothing matches is the application's, as on the other backends.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_eks_data.outcomes.evidence import EmrServerlessEvidence
from airflow_eks_data.outcomes.model import Classification, Outcome
from airflow_eks_data.outcomes.states import EMR_SERVERLESS_JOB_RUN, settled_verdict

_USER_TEXT = re.compile(
    r"exit(ed)? (with )?(code|status)[ :]*[1-9]|ClassNotFound|NoClassDefFound|ModuleNotFound|ImportError|"
    r"Traceback|\w+(Exception|Error):|OutOfMemory|out of memory|No such file|does not exist|"
    r"(entry ?point|script|jar).{0,80}(Access ?Denied|403|not found)|Access ?Denied.{0,80}(entry ?point|script|jar)",
    re.I,
)
_INFRA_TEXT = (
    (
        re.compile(r"insufficient capacity|capacity (is )?(not available|unavailable|exceeded)|maximum capacity", re.I),
        "capacity",
    ),
    (re.compile(r"quota|(v?CPU|memory|concurrent).{0,40}limit (was )?(exceeded|reached)", re.I), "quota"),
    (re.compile(r"throttl|rate exceeded|too many requests|SlowDown", re.I), "throttling"),
    (
        re.compile(r"internal (service |server )?error|InternalServer|service (is )?unavailable|try again later", re.I),
        "internal service error",
    ),
    (
        re.compile(r"worker.{0,40}(lost|terminated|unhealthy|unreachable)|driver.{0,40}(lost|unreachable)", re.I),
        "lost workers",
    ),
)


def infrastructure_cause(details: str) -> str | None:
    """What `stateDetails` blames on the service (capacity, quota, throttling, ...), or None."""
    return next((label for pattern, label in _INFRA_TEXT if pattern.search(details)), None)


def _attempt_lines(run: dict[str, Any], attempts: tuple[dict[str, Any], ...]) -> list[str]:
    """The service's own retries (`retryPolicy`), when it made any."""
    number = run.get("attempt")
    limit = (run.get("retryPolicy") or {}).get("maxAttempts")
    if not number or int(number) <= 1:
        return []
    lines = [f"EMR Serverless retried the run itself: attempt {number}" + (f" of {limit}" if limit else "")]
    for earlier in attempts:
        if earlier.get("attempt") != number:
            lines.append(
                f"attempt {earlier.get('attempt')}: {earlier.get('state')} {earlier.get('stateDetails') or ''}".rstrip()
            )
    return lines


def classify_emr_serverless(ev: EmrServerlessEvidence) -> Classification:
    """Outcome of an EMR Serverless job run; raises NotTerminalError while it can still change."""
    run = ev.job_run
    state = str(run.get("state") or "")
    details = str(run.get("stateDetails") or "")
    facts = [f"jobRun {run.get('jobRunId') or run.get('id') or '?'} state={state}"]
    if details:
        facts.append(f"stateDetails: {details}")
    facts += _attempt_lines(run, ev.attempts)
    suffix = f": {details}" if details else ""

    def verdict(outcome: Outcome, reason: str) -> Classification:
        return Classification(outcome=outcome, reason=reason, evidence=tuple(facts))

    settled = settled_verdict(state, EMR_SERVERLESS_JOB_RUN, "EMR Serverless", verdict, details)
    if settled:
        return settled
    cause = infrastructure_cause(details)
    if cause:
        return verdict(Outcome.INTERRUPTED, f"EMR Serverless {cause}, not the application's fault{suffix}")
    if _USER_TEXT.search(details):
        return verdict(Outcome.FAILED, f"the application failed{suffix}")
    return verdict(Outcome.FAILED, f"job run FAILED{suffix or ' (no stateDetails)'}")
