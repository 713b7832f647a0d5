"""Crawl speed and memory: Xtract end to end against what a user would run instead.

Builds a tree of N files (default 200,000) in 585 nested folders, then, taking turns
over several runs, times:

- ``find DIR -type f -printf '%s %p\\n'`` (the bar the design sets),
- a plain Python breadth-first ``os.scandir`` walk collecting ``{path, size, mtime}``,
- Xtract: ``crawl_and_wait`` through the SDK, request to ``complete``, with the
  service's worker processes listing and grouping every file into the embedded Redis
  (the service's own ``elapsed_seconds`` is reported beside it),

on a warm cache, and with ``--cold`` also with the page, dentry and inode caches dropped
before every run (root only). Reports medians, min/max, files/s, the ratio to ``find``,
peak RSS of the service's whole process tree, Redis bytes per file record, and files
crawled over time (for the plot). ``--files 1000000 --runs 1`` is the memory run.

Run: ``make bench`` or ``python bench/bench_crawl.py --files 200000 --cold``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import redis
import requests
from common import Row, Sampler, alternate, drop_caches, report, save, timed_command

from tests.support import Service, make_tree
from xtract_sdk import XtractEndpoint


def scandir_walk(root: Path) -> int:
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
    return len(found)


class XtractCrawl:
    """A running service; each call is one crawl of the tree, sampled as it runs."""

    def __init__(self, root: Path, home: Path, workers: int) -> None:
        env = {
            "XTRACT_ALLOWED_ROOTS": json.dumps([str(root)]),
            "XTRACT_CRAWL_WORKERS": str(workers),
        }
        self.root = root
        self.svc = Service(home, env=env).start()
        self.client = self.svc.client()
        self.redis = redis.Redis.from_url(self.svc.redis_url)
        self.elapsed: list[float] = []
        self.last: dict[str, Any] = {}
        self.cid = ""
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.svc.token}"

    def _probe(self) -> dict[str, Any]:
        if not self.cid:
            return {}
        s = self.http.get(f"{self.svc.url}/v1/crawls/{self.cid}", timeout=5).json()
        return {"files": s["data"]["files_crawled"]}

    def __call__(self) -> tuple[int, float]:
        assert self.svc.proc is not None
        self.cid = ""
        before = self.redis.info("memory")["used_memory"]
        with Sampler(self.svc.proc.pid, probe=self._probe) as sampler:
            (self.cid,) = self.client.crawl(XtractEndpoint("local", dirs=[str(self.root)]))
            (status,) = self.client.wait_for_crawls(self.cid, progress=False).values()
        files = status["data"]["files_crawled"]
        used = self.redis.info("memory")["used_memory"] - before
        self.elapsed.append(status["data"]["elapsed_seconds"])
        self.last = {
            "samples": sampler.samples,
            "redis_bytes_per_file": used / max(files, 1),
            "peak_rss_mb": sampler.peak_mb,
            "peak_largest_process_mb": sampler.peak_largest_mb,
        }
        return files, sampler.peak_mb

    def stop(self) -> None:
        self.svc.stop()


def run(root: Path, home: Path, args: argparse.Namespace, cold: bool) -> dict[str, Any]:
    xtract = XtractCrawl(root, home, args.workers)
    try:
        xtract()  # the service's first crawl starts its connections; not counted

        def prepared(fn: Any) -> Any:
            def go() -> Any:
                if cold:
                    drop_caches()
                return fn()

            return go

        contenders = {
            "find -printf": prepared(
                lambda: (
                    timed_command(["find", str(root), "-type", "f", "-printf", "%s %p\n"]),
                    args.files,
                )[1]
            ),
            "python os.scandir BFS": prepared(lambda: scandir_walk(root)),
            f"xtract, {args.workers} crawl workers": prepared(xtract),
        }
        rows = alternate(contenders, args.runs)
        name = f"xtract, {args.workers} crawl workers"
        inner = Row(
            "  (its service-side elapsed)",
            xtract.elapsed[-args.runs :],
            rows[name].items,
            loads=rows[name].loads,
        )
        table = report(
            f"{'cold' if cold else 'warm'} cache, {args.files:,} files",
            [*rows.values(), inner],
            "find -printf",
        )
        return {"table": table, **xtract.last}
    finally:
        xtract.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="also with caches dropped (root)")
    ap.add_argument("--name", default=None, help="results file name (default crawl-N)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="xtract-bench-"))
    try:
        root = work / "tree"
        print(f"building {args.files:,} files ...", flush=True)
        make_tree(root, args.files, fanout=8, depth=3)
        results: dict[str, Any] = {"files": args.files, "workers": args.workers}
        results["warm"] = run(root, work / "home-warm", args, cold=False)
        if args.cold:
            if drop_caches():
                results["cold"] = run(root, work / "home-cold", args, cold=True)
            else:
                print("cold cache: skipped (dropping caches needs root)")
        warm = results["warm"]
        print(
            f"\nRedis bytes per file record: {warm['redis_bytes_per_file']:.0f}; "
            f"peak RSS of the service's processes: {warm['peak_rss_mb']:.0f} MB "
            f"(largest one process: {warm['peak_largest_process_mb']:.0f} MB)"
        )
        print("saved", save(args.name or f"crawl-{args.files}", results))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
