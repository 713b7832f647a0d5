"""Cold start: from ``xtract serve`` to the first completed crawl of 10 files (the
target is under 3 s), over several runs, each with a new home (its own embedded Redis),
with ``find`` on the same 10 files beside it for scale.

Run: ``python bench/bench_cold_start.py --runs 5``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from tests.support import free_port
from xtract_sdk import XtractClient, XtractEndpoint


def one_run(data: Path) -> tuple[float, float]:
    home = Path(tempfile.mkdtemp(prefix="xtract-cold-"))
    port = free_port()
    env = {
        **os.environ,
        "XTRACT_HOME": str(home),
        "XTRACT_PORT": str(port),
        "XTRACT_ALLOWED_ROOTS": f'["{data}"]',
    }
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "xtract_service.cli", "serve"], env=env, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                requests.get(url + "/health", timeout=0.2)
                break
            except requests.RequestException:
                time.sleep(0.02)
        healthy = time.perf_counter() - start
        xtr = XtractClient(base_url=url, token=(home / "token").read_text().strip())
        xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(data)]), progress=False)
        return healthy, time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="xtract-cold-data-", dir="/tmp"))
    for i in range(10):
        (data / f"f{i}.txt").write_text("x" * i)
    runs = [one_run(data) for _ in range(args.runs)]
    t = time.perf_counter()
    subprocess.run(["find", str(data), "-type", "f", "-printf", "%s %p\n"], capture_output=True)
    find = time.perf_counter() - t
    healthy = [h for h, _ in runs]
    done = [d for _, d in runs]
    print(
        f"serve to healthy: median {statistics.median(healthy):.2f} s "
        f"(min {min(healthy):.2f}, max {max(healthy):.2f})\n"
        f"serve to first crawl complete: median {statistics.median(done):.2f} s "
        f"(min {min(done):.2f}, max {max(done):.2f}); target < 3 s\n"
        f"find on the same 10 files: {find * 1000:.1f} ms"
    )
    from common import save

    print(
        "saved", save("cold-start", {"healthy_s": healthy, "first_crawl_s": done, "find_s": find})
    )


if __name__ == "__main__":
    main()
