"""Crawl speed: Xtract end to end against what a user would run instead.

Builds a tree of N files (default 100,000) in nested folders, then times, side by side
in one run, on a warm cache:

- ``find DIR -type f -printf '%s %p\\n'`` (the bar the design sets),
- a plain Python breadth-first ``os.scandir`` walk collecting ``{path, size, mtime}``,
- Xtract: ``crawl_and_wait`` through the SDK until the crawl is complete, with the
  service's worker processes writing families to the embedded Redis; "cold" is the
  first crawl after the service started (its worker processes still starting), "warm"
  the best of the later ones,

and reports files/s and each one's ratio to ``find``. Run: ``make bench`` or
``python bench/bench_crawl.py --files 200000 --workers 2``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import Service, make_tree
from xtract_sdk import XtractEndpoint


def time_find(root: Path) -> float:
    t = time.perf_counter()
    subprocess.run(
        ["find", str(root), "-type", "f", "-printf", "%s %p\n"],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - t


def time_scandir(root: Path) -> tuple[float, int]:
    t = time.perf_counter()
    frontier, found = [str(root)], []
    while frontier:
        nxt = []
        for d in frontier:
            with os.scandir(d) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        nxt.append(e.path)
                    elif e.is_file(follow_symlinks=False):
                        s = e.stat(follow_symlinks=False)
                        found.append({"path": e.path, "size": s.st_size, "mtime": s.st_mtime})
        frontier = nxt
    return time.perf_counter() - t, len(found)


def time_xtract(root: Path, workers: int, home: Path, repeat: int) -> tuple[float, float, int]:
    """(first crawl after the service started, best later crawl, files found)."""
    env = {
        "XTRACT_ALLOWED_ROOTS": json.dumps([str(root)]),
        "XTRACT_CRAWL_WORKERS": str(workers),
    }
    svc = Service(home, env=env).start()
    try:
        xtr = svc.client()
        times = []
        for _ in range(repeat + 1):
            t = time.perf_counter()
            ((_, status),) = xtr.crawl_and_wait(
                XtractEndpoint("local", dirs=[str(root)]), progress=False
            ).items()
            times.append(time.perf_counter() - t)
        return times[0], min(times[1:]), status["data"]["files_crawled"]
    finally:
        svc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="xtract-bench-"))
    try:
        root = work / "tree"
        print(f"building {args.files:,} files ...", flush=True)
        make_tree(root, args.files, fanout=6, depth=3)
        time_find(root)  # warm the cache

        best_find = min(time_find(root) for _ in range(args.repeat))
        scans = [time_scandir(root) for _ in range(args.repeat)]
        best_scan = min(s[0] for s in scans)
        rows = [
            ("find -printf", best_find, args.files),
            ("python os.scandir BFS", best_scan, scans[0][1]),
        ]
        for w in args.workers:
            cold, warm, n = time_xtract(root, w, work / f"home-{w}", args.repeat)
            rows.append((f"xtract, {w} worker(s), warm", warm, n))
            rows.append((f"xtract, {w} worker(s), cold", cold, n))

        print(f"\n{'what':<30}{'seconds':>10}{'files/s':>12}{'vs find':>10}  files")
        for name, secs, n in rows:
            print(f"{name:<30}{secs:>10.3f}{n / secs:>12,.0f}{best_find / secs:>10.2f}  {n:,}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
