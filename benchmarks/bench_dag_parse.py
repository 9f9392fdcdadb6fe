"""DagBag parse time of the example DAGs, as Airflow's DAG processor measures it (per file).

Run: `make bench` (or `.venv/bin/python benchmarks/bench_dag_parse.py [--runs N]`).
Goal (issue 7): the 150-table `hourly_compaction` parses in <= 200 ms of DagBag time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__EKS_DATA__PROFILES_DIR", str(ROOT / "dags_examples" / "profiles"))
    from airflow.dag_processing.dagbag import DagBag

    durations: dict[str, list[float]] = {}
    for _ in range(args.runs):
        bag = DagBag(str(ROOT / "dags_examples"))
        assert not bag.import_errors, bag.import_errors
        for stat in bag.dagbag_stats:
            durations.setdefault(Path(stat.file).name, []).append(stat.duration.total_seconds() * 1000)
    print(f"{'file':<28} {'first ms':>9} {'median of the rest ms':>22} {'runs':>5}")
    for name, samples in sorted(durations.items()):
        rest = statistics.median(samples[1:]) if len(samples) > 1 else float("nan")
        print(f"{name:<28} {samples[0]:>9.1f} {rest:>22.1f} {len(samples):>5}")


if __name__ == "__main__":
    main()
