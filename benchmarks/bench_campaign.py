"""The fault campaign (issue 9): many task instances of the real operator and triggers, on every
backend, through every fault at once, judged against a scripted truth.

    python benchmarks/bench_campaign.py --jobs 1000 --seed 7
    python benchmarks/bench_campaign.py --jobs 300 --backends emr_on_eks --emr-queue 5,100 --concurrency 300

Spark Operator jobs run against the test Kubernetes API server, EMR on EKS and EMR Serverless jobs
against moto's server, all in this process over HTTP with the official clients; 20% of requests to either API are
answered 429/500/503, watches are cut every few seconds, etcd compactions and bursts of 410 Gone hit
re-watches, tokens expire under running waits, and the triggerer is torn down and rebuilt from
`serialize()` every few seconds. The seed scripts each job: spot interruptions and node losses,
user errors, pending capacity, worker deaths between submit and defer and in `execute_complete`
(`tests/reliability/truth.py`). Prints the figures as Markdown tables (`docs/reliability.md` holds
the last ones) and exits 1 if any violation was found.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000, help="task instances (default 1000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--error-rate", type=float, default=0.2, help="share of API requests failed (default 0.2)")
    parser.add_argument("--concurrency", type=int, default=150, help="task instances at once (default 150)")
    parser.add_argument("--workers", type=int, default=24, help="worker slots (default 24)")
    parser.add_argument(
        "--backends",
        default="spark_operator,emr_on_eks,emr_serverless",
        help="comma-separated backends the jobs are drawn over (default: all three)",
    )
    parser.add_argument(
        "--emr-queue",
        default=None,
        metavar="CONCURRENT,IN_QUEUE",
        help="give every virtual cluster a scheduler configuration: maxConcurrentJobRuns,maxInQueueJobRuns",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    # Airflow reads its home at import: a throw-away one, as the tests use.
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="campaign-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

    from tests.reliability.harness import CampaignConfig, run_campaign

    config = CampaignConfig(
        jobs=args.jobs,
        seed=args.seed,
        error_rate=args.error_rate,
        concurrency=args.concurrency,
        workers=args.workers,
        backends=tuple(args.backends.split(",")),
        emr_queue=_queue(args.emr_queue),
    )
    report = run_campaign(config)
    queue = f", EMR queue {args.emr_queue} (concurrent, in queue)" if args.emr_queue else ""
    print(f"## Campaign: {args.jobs} jobs, seed {args.seed}, {args.error_rate:.0%} of requests failed{queue}")
    print(f"\n{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}\n")
    print(report.table())
    print()
    print(report.events_table())
    print(f"\nviolations: {len(report.violations)}")
    for violation in report.violations:
        print(f"- {violation}")
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    return 1 if report.violations else 0


def _queue(value: str | None) -> dict[str, int] | None:
    if not value:
        return None
    concurrent, in_queue = (int(part) for part in value.split(","))
    return {"maxConcurrentJobRuns": concurrent, "maxInQueueJobRuns": in_queue}


if __name__ == "__main__":
    sys.exit(main())
