"""Resolve + render + validate of one job, per backend target, excluding CRD-schema validation.

Run: `make bench` (or `.venv/bin/python benchmarks/bench_render.py [--iterations N]`).
Goal (issue 2): median <= 1 ms for the SparkApplication.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from airflow_eks_data.jobspec import PlatformProfile, SparkJob
from airflow_eks_data.render import TARGETS, Target, render
from airflow_eks_data.resolve import resolve
from airflow_eks_data.validate import rendered_problems

ROOT = Path(__file__).resolve().parent.parent
JOBS = ROOT / "dags_examples" / "jobs"


def once(job: SparkJob, profile: PlatformProfile, target: Target) -> float:
    start = time.perf_counter()
    resolved = resolve(job, profile)
    document = render(resolved, target)
    problems = rendered_problems(resolved, target, document)
    elapsed = time.perf_counter() - start
    assert not problems, problems
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    profile = PlatformProfile.from_yaml(ROOT / "dags_examples" / "profiles" / "compaction.yaml")
    print(f"{'job':<16} {'target':<15} {'median ms':>10} {'p95 ms':>8} {'iterations':>10}")
    for path in sorted(JOBS.glob("*.yaml")):
        job = SparkJob.from_yaml(path)
        for target in TARGETS:
            for _ in range(50):  # warm caches (botocore's model, compiled patterns)
                once(job, profile, target)
            samples = sorted(once(job, profile, target) for _ in range(args.iterations))
            median = statistics.median(samples) * 1000
            p95 = samples[int(len(samples) * 0.95)] * 1000
            print(f"{path.stem:<16} {target:<15} {median:>10.3f} {p95:>8.3f} {args.iterations:>10}")


if __name__ == "__main__":
    main()
