"""Watchers and everyone else: how long ``GET /health`` takes while N clients hold the
event stream of one crawl open, against the same service with none (what a user would
see from a shared service while a dashboard's worth of notebooks watch a crawl).

Run: ``.venv/bin/python bench/bench_watchers.py --watchers 1000``. Reports the median
and 95th percentile latency of /health in both states and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import Service, make_tree, roots_env
from xtract_sdk import XtractEndpoint


async def health_latencies(url: str, n: int = 50) -> list[float]:
    out = []
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(n):
            t = time.perf_counter()
            (await client.get(url + "/health")).raise_for_status()
            out.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.01)
    return out


async def with_watchers(svc: Service, crawl_id: str, watchers: int) -> list[float]:
    limits = httpx.Limits(max_connections=watchers + 10)
    headers = {"Authorization": f"Bearer {svc.token}"}
    opened = 0
    async with httpx.AsyncClient(timeout=None, limits=limits, headers=headers) as client:

        async def watch(ready: asyncio.Event) -> None:
            nonlocal opened
            url = f"{svc.url}/v1/crawls/{crawl_id}/events"
            async with client.stream("GET", url) as resp:
                opened += 1
                if opened == watchers:
                    ready.set()
                async for _ in resp.aiter_lines():
                    pass

        ready = asyncio.Event()
        tasks = [asyncio.create_task(watch(ready)) for _ in range(watchers)]
        await asyncio.wait_for(ready.wait(), 120)
        latencies = await health_latencies(svc.url)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


def summary(ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[-1]
    return f"median {statistics.median(ms):6.1f} ms, p95 {p95:6.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--watchers", type=int, default=1000)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="xtract-bench-watch-"))
    data = base / "data"
    make_tree(data, 100, fanout=2, depth=2)
    svc = Service(base / "home", env=roots_env(data)).start()
    try:
        xtr = svc.client()
        (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(data)]), progress=False)
        idle = asyncio.run(health_latencies(svc.url))
        busy = asyncio.run(with_watchers(svc, cid, args.watchers))
    finally:
        svc.stop()
    print(f"/health, no watchers:          {summary(idle)}")
    print(f"/health, {args.watchers:>5} watchers:       {summary(busy)}")
    print(
        f"ratio (median):                {statistics.median(busy) / statistics.median(idle):.2f}x"
    )


if __name__ == "__main__":
    main()
