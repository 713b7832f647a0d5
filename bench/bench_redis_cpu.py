"""Redis's own CPU per extracted file: a copy of Debian's ``/usr/share/doc`` crawled,
then extracted by a fresh service (its content cache empty), with ``INFO cpu`` read
before and after the extraction, and the commands that took the most of it
(``INFO commandstats``, since the server started: the crawl's included). Issue 27's
target is 20 us a file. Also measured: Redis's CPU per second with the same service
idle (the workers' blocking reads, the server's own timers), and the cost per file
above that floor.

Run: ``python bench/bench_redis_cpu.py``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import redis
from common import save

from tests.support import Service
from xtract_sdk import XtractEndpoint

IDLE_SECONDS = 20


def main() -> None:
    work = Path(tempfile.mkdtemp())
    root = work / "doc"
    shutil.copytree("/usr/share/doc", root, symlinks=True, ignore_dangling_symlinks=True)
    files = sum(1 for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    svc = Service(work / "home", env={"XTRACT_ALLOWED_ROOTS": json.dumps([str(root)])})
    svc.start()
    try:
        r = redis.Redis.from_url(svc.redis_url)
        xtr = svc.client()
        xep = XtractEndpoint("local", dirs=[str(root)])
        ((cid, _),) = xtr.crawl_and_wait(xep, progress=False).items()

        def cpu() -> float:
            i = r.info("cpu")
            return float(i["used_cpu_user"] + i["used_cpu_sys"])

        # what Redis spends with the service idle (workers' blocking reads, its own cron),
        # per second, to tell the extraction's own cost from the floor under it
        i0, it0 = cpu(), time.perf_counter()
        time.sleep(IDLE_SECONDS)
        idle_rate = (cpu() - i0) / (time.perf_counter() - it0)
        c0, t0 = cpu(), time.perf_counter()
        (st,) = xtr.xtract_and_wait([cid], progress=False, timeout=1800)
        c1, t1 = cpu(), time.perf_counter()
        n = st["files_extracted"]
        cmd = r.info("commandstats")
        top = sorted(((v["usec"], k, v["calls"]) for k, v in cmd.items()), reverse=True)[:8]
        row = {
            "files": files,
            "extracted": n,
            "seconds": round(t1 - t0, 1),
            "redis_cpu_s": round(c1 - c0, 3),
            "us_per_file": round((c1 - c0) * 1e6 / n, 1),
            "idle_cpu_s_per_s": round(idle_rate, 5),
            "us_per_file_above_idle": round((c1 - c0 - idle_rate * (t1 - t0)) * 1e6 / n, 1),
            "top_commands_total_usec": top,
        }
        print(json.dumps(row, indent=1))
        save("redis-cpu", row)
    finally:
        svc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
