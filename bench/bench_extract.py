"""Extraction speed: the Xtract service end to end against a plain loop calling the
same extractor functions on the same files, side by side in one run.

The corpus is ``--copies`` copies of one file of every supported kind (14 files each).
The plain loop is what a user would write: for each file, call the extractor its
extension names, in this process, with no isolation. Xtract runs the whole pipeline:
crawl, detect each type from its bytes, choose extractors, run them in isolated
processes (time and memory limits), write one JSON per family, record in Redis. Reported
for one and two extraction workers, with files/s and the ratio to the plain loop: "cold"
is the first run after the service started (extraction processes still starting),
"warm" a second crawl and extraction of the same files on the running service.

Run: ``python bench/bench_extract.py --copies 20``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.corpus import write_good
from tests.support import Service
from xtract_extractors import extractor_for, get
from xtract_sdk import XtractEndpoint


def plain_loop(paths: list[Path]) -> float:
    t = time.perf_counter()
    for p in paths:
        name = extractor_for(str(p))
        if name:
            get(name).run([str(p)])
    return time.perf_counter() - t


def service_run(root: Path, workers: int, home: Path) -> tuple[float, float, int]:
    """(first run, from a freshly started service; second run, warm), files."""
    env = {
        "XTRACT_ALLOWED_ROOTS": json.dumps([str(root)]),
        "XTRACT_EXTRACT_WORKERS": str(workers),
        "XTRACT_CRAWL_WORKERS": "1",
    }
    svc = Service(home, env=env).start()
    try:
        times = []
        for _ in range(2):
            xtr = svc.client()
            t = time.perf_counter()
            xtr.crawl(XtractEndpoint("local", dirs=[str(root)]))
            (status,) = xtr.xtract_and_wait(progress=False)
            times.append(time.perf_counter() - t)
        return times[0], times[1], status["files_extracted"]
    finally:
        svc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=20)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xtract-bench-x-"))
    try:
        src = write_good(work / "src")
        root = work / "corpus"
        for i in range(args.copies):
            shutil.copytree(work / "src", root / f"c{i}")
        paths = [p for p in root.rglob("*") if p.is_file()]
        plain_loop(list(src.values()))  # import every library once
        base = plain_loop(paths)
        rows = [("plain loop, 1 process", base, len(paths))]
        for w in (1, 2):
            cold, warm, n = service_run(root, w, work / f"home{w}")
            rows.append((f"xtract, {w} worker(s), cold", cold, n))
            rows.append((f"xtract, {w} worker(s), warm", warm, n))
        print(f"\n{'what':<30}{'seconds':>10}{'files/s':>10}{'vs loop':>9}  files")
        for name, secs, n in rows:
            print(f"{name:<30}{secs:>10.2f}{n / secs:>10,.1f}{base / secs:>9.2f}  {n:,}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
