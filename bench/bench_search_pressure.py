"""One owner's metadata searches against another owner's status reads.

Owner A extracts a tree of ``--files`` text files (keyword documents), then runs
``--searches`` (default 8) threads, each paging through the widest search there is (a
field nobody has: every document is read, none matches) as fast as it is answered.
Meanwhile owner B, with a token of its own, reads the status of its own small crawl
``--reads`` times in a row. B's latencies are measured first on the idle service, then
under A's searches, side by side: p50, p99, max; with A's answered and refused (429)
searches, documents scanned per second, and the service's peak memory.

The target (issue 21): B's p99 stays under 100 ms under 8 maximal searches.

Run: ``python bench/bench_search_pressure.py --files 20000``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from common import Sampler, save

from tests.support import Service, issue, make_tree
from xtract_sdk import XtractClient, XtractEndpoint


def words(root: Path, n: int) -> None:
    for i in range(n):
        p = root / f"d{i % 50}" / f"note{i}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(" ".join(f"sample{i % 97} word{j} measure{i % 13}" for j in range(40)))


def status_reads(url: str, token: str, n: int) -> list[float]:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        s.get(url, timeout=30).raise_for_status()
        lat.append((time.perf_counter() - t) * 1000)
    return lat


def summary(lat: list[float]) -> dict[str, float]:
    q = statistics.quantiles(lat, n=100)
    return {"n": len(lat), "p50_ms": q[49], "p99_ms": q[98], "max_ms": max(lat)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--searches", type=int, default=8)
    ap.add_argument("--reads", type=int, default=400)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="xtract-search-"))
    data_a, data_b = base / "a", base / "b"
    words(data_a, args.files)
    make_tree(data_b, 20, fanout=2, depth=1)
    env = {"XTRACT_ALLOWED_ROOTS": f'["{base}"]'}
    with Service(base / "home", env=env) as svc:
        a = svc.client()
        (cid,) = a.crawl_and_wait(XtractEndpoint("local", dirs=[str(data_a)]), progress=False)
        t = time.perf_counter()
        (done,) = a.xtract_and_wait(cid, progress=False, timeout=3600)
        print(f"extracted {args.files} files in {time.perf_counter() - t:.0f} s")
        assert done["xtract_status"] == "COMPLETED", done
        token_b = issue(svc, "bob", data_b)
        b = XtractClient(base_url=svc.url, token=token_b)
        (cid_b,) = b.crawl_and_wait(XtractEndpoint("local", dirs=[str(data_b)]), progress=False)
        status_url = f"{svc.url}/v1/crawls/{cid_b}"
        status_reads(status_url, token_b, 20)  # warm the connection and the route
        idle = status_reads(status_url, token_b, args.reads)

        stop = threading.Event()
        counts = {"answered": 0, "refused": 0, "scanned": 0}
        lock = threading.Lock()

        def search() -> None:
            s = requests.Session()
            s.headers["Authorization"] = f"Bearer {svc.token}"
            url = f"{svc.url}/v1/crawls/{cid}/metadata/search"
            after = None
            while not stop.is_set():
                params: dict[str, Any] = {"field": "nobody_has_this", "limit": 500}
                if after:
                    params["after"] = after
                r = s.get(url, params=params, timeout=120)
                with lock:
                    if r.status_code == 429:
                        counts["refused"] += 1
                    else:
                        r.raise_for_status()
                        counts["answered"] += 1
                        counts["scanned"] += int(r.json().get("scanned", 0))
                after = r.json().get("next") if r.status_code == 200 else None
                if r.status_code == 429:
                    time.sleep(0.05)

        threads = [threading.Thread(target=search) for _ in range(args.searches)]
        assert svc.proc is not None
        with Sampler(svc.proc.pid, interval=0.2) as mem:
            started = time.perf_counter()
            for th in threads:
                th.start()
            time.sleep(1.0)  # the searches are under way
            loaded = status_reads(status_url, token_b, args.reads)
            stop.set()
            for th in threads:
                th.join()
            seconds = time.perf_counter() - started
    rows = {"idle": summary(idle), "under_searches": summary(loaded)}
    for name, row in rows.items():
        print(
            f"{name:>15}: p50 {row['p50_ms']:.1f} ms  p99 {row['p99_ms']:.1f} ms  "
            f"max {row['max_ms']:.1f} ms  ({row['n']} reads)"
        )
    ratio = rows["under_searches"]["p99_ms"] / rows["idle"]["p99_ms"]
    print(
        f"p99 under load / idle: {ratio:.1f}x; searches answered {counts['answered']}, "
        f"refused {counts['refused']} (429) in {seconds:.1f} s; peak service RSS "
        f"{mem.peak_mb:.0f} MB"
    )
    save(
        "search_pressure",
        {
            "files": args.files,
            "searches": args.searches,
            "status_reads": rows,
            "p99_ratio": ratio,
            "searches_answered": counts["answered"],
            "searches_refused": counts["refused"],
            "seconds": seconds,
            "peak_rss_mb": mem.peak_mb,
        },
    )


if __name__ == "__main__":
    main()
