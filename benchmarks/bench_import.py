"""Import cost of `airflow_eks_data` itself, from `python -X importtime` (the package's own modules).

Run: `make bench` (or `.venv/bin/python benchmarks/bench_import.py [--runs N]`).
Goal (issue 2): `import airflow_eks_data` <= 30 ms of its own.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

STATEMENTS = {
    "import airflow_eks_data": "import airflow_eks_data",
    "SparkJob + PlatformProfile": "from airflow_eks_data import SparkJob, PlatformProfile; SparkJob.model_fields",
}


def own_microseconds(statement: str) -> tuple[int, int]:
    """(self time of airflow_eks_data modules, cumulative time with what they import) in microseconds."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, check=True
    )
    own = total = 0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if name.strip().startswith("airflow_eks_data"):
            own += int(self_us)
            if not name.startswith(" "):  # a top-level import of ours: count it with its dependencies
                total += int(cumulative_us)
    return own, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"{'statement':<28} {'own ms (median)':>16} {'with deps ms (median)':>22} {'runs':>5}")
    for label, statement in STATEMENTS.items():
        samples = [own_microseconds(statement) for _ in range(args.runs)]
        own = statistics.median(s[0] for s in samples) / 1000
        total = statistics.median(s[1] for s in samples) / 1000
        print(f"{label:<28} {own:>16.2f} {total:>22.2f} {args.runs:>5}")


if __name__ == "__main__":
    main()
