"""`make demo`: what the package does to the example jobs, through the same CLI users run.

Until the hourly compaction pipeline lands (issue 7) the demo renders, validates and explains the
example jobs for every backend; it exits non-zero if any of them is invalid.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from airflow_eks_data.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ROOT / "dags_examples" / "profiles"
JOBS = sorted((ROOT / "dags_examples" / "jobs").glob("*.yaml"))


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def main() -> int:
    os.environ.setdefault("AIRFLOW_EKS_DATA_NO_AIRFLOW_CONFIG", "1")
    common = ["--profile", "compaction", "--profiles-dir", str(PROFILES)]
    banner("profiles")
    failures = cli(["profiles", "list", "--profiles-dir", str(PROFILES)])
    for job in JOBS:
        for target in ("spark-operator", "emr-on-eks", "local"):
            failures += cli(["validate", str(job.relative_to(ROOT)), *common, "--target", target])
    first = str(JOBS[0].relative_to(ROOT))
    banner(f"{first} rendered for the Spark Operator")
    failures += cli(["render", first, *common])
    banner(f"{first}: which layer set each value")
    failures += cli(["explain", first, *common])
    banner(f"{first} as a local spark-submit")
    failures += cli(["render", first, *common, "--target", "local"])
    print("\ndemo:", "all example jobs are valid" if not failures else "some example jobs are invalid")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
