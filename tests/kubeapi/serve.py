"""Run the test API server as its own process (benchmarks, manual kubectl sessions).

``python -m tests.kubeapi.serve --speed 10`` prints one JSON line (url, kubeconfig, pid) and
serves until stdin closes or SIGTERM/SIGINT arrives. ``GET /kubeapi/counters`` returns the request
counters as ``[[verb, resource, count], ...]``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from tests.kubeapi.server import KubeApiServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    parser.add_argument("--crd", type=Path, default=None, help="SparkApplication CRD for admission")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--token", action="store_true", help="require a bearer token")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--bookmark-interval", type=float, default=60.0)
    args = parser.parse_args(argv)
    server = KubeApiServer(
        speed=args.speed,
        crd_path=args.crd,
        tls=args.tls,
        token_auth=args.token,
        workdir=args.workdir,
        bookmark_interval=args.bookmark_interval,
    ).start()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())

    def wait_stdin() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    print(json.dumps({"url": server.url, "kubeconfig": str(server.kubeconfig_path), "pid": _pid()}), flush=True)
    done.wait()
    server.stop()
    return 0


def _pid() -> int:
    import os

    return os.getpid()


if __name__ == "__main__":
    raise SystemExit(main())
