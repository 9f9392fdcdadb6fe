"""Does the local Spark match the job's `spark_version`? A pure comparison: no Airflow, no I/O.

The local backend runs the `spark-submit` of whatever pyspark is installed, which need not be the Spark
the profile's image has (`pip install 'airflow-eks-data[local]'` takes the newest pyspark). A laptop run
on another major.minor still runs, it may just behave differently: the local hook says so once, with the
message `version_note` returns.
"""

from __future__ import annotations

import re

_MAJOR_MINOR = re.compile(r"^\s*v?(\d+)\.(\d+)")


def major_minor(version: str | None) -> tuple[int, int] | None:
    """`(3, 5)` for `3.5.1`, `3.5`, `3.5.0.dev1` or `4.0.0-preview2`; None when there is no such start."""
    match = _MAJOR_MINOR.match(version or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def version_note(job_version: str | None, local_version: str | None, origin: str | None = None) -> str | None:
    """A sentence when the local Spark's major.minor differs from the job's `spark_version` (set by the
    layer `origin`); None when they agree or either is unknown."""
    wanted, local = major_minor(job_version), major_minor(local_version)
    if wanted is None or local is None or wanted == local:
        return None
    by = f" ({origin})" if origin else ""
    return (
        f"spark_version is {job_version}{by} but the local spark-submit is Spark {local_version}: the local run "
        f"uses Spark {local[0]}.{local[1]}, not {wanted[0]}.{wanted[1]}; for the same Spark as the cluster, "
        f"install pyspark=={wanted[0]}.{wanted[1]}.* in this environment"
    )
