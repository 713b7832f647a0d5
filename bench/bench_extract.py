"""Extraction speed: the Xtract service end to end against a plain loop calling the
same extractor functions on the same files, side by side, taking turns.

The corpus is mixed and real: a copy of Debian's ``/usr/share/doc`` (files nobody here
wrote: changelogs, copyright files, HTML, gzip'd text, ...) plus ``--copies`` copies of
the project's own corpus (one file of every supported kind). The plain loop is what a
user would write to get the same metadata: for each file, ``filetype``, then the
extractors its type calls for (the same functions Xtract calls), in this process, with
no isolation and no parallelism. Xtract runs the whole pipeline: crawl, detect each type
from its bytes, choose extractors, run them in isolated processes (time and memory
limits), write one JSON per family, record in Redis; measured from the crawl request
to the extraction's COMPLETED, on a running service whose content cache is emptied
before every run, with 1 and 2 extraction workers. Xtract reads identical content once
per run (the 20 copies of the corpus, Debian's duplicated docs); the plain loop reads
every file: that difference is part of what is measured.

Also saved: files extracted over time for one run (the plot), and per extractor the
cost per file as the service's documents record it.

Run: ``python bench/bench_extract.py --runs 3``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import redis
from common import alternate, report, save

from tests.corpus import write_good
from tests.support import Service, all_documents
from xtract_extractors import extractor_for, get
from xtract_extractors.select import plan
from xtract_sdk import XtractEndpoint
from xtract_service import keys
from xtract_service.auth.base import LOCAL_OWNER


def plain_loop(paths: list[Path]) -> int:
    """The same extractor functions Xtract calls, on the same files, one after another
    in this process: ``filetype``, then the readers of the type it detected (and the
    one the extension suggests), as :func:`xtract_extractors.select.plan` picks them."""
    filetype = get("filetype")
    for p in paths:
        path = str(p)
        try:
            mimetype = filetype.run([path]).get("mimetype")
        except Exception:  # a user's loop would skip what fails
            mimetype = None
        for name in plan(path, mimetype, suggested=extractor_for(path)):
            with contextlib.suppress(Exception):
                get(name).run([path])
    return len(paths)


class XtractRun:
    def __init__(self, root: Path, home: Path, out: Path, workers: int) -> None:
        env = {
            "XTRACT_ALLOWED_ROOTS": json.dumps([str(root), str(out)]),
            "XTRACT_EXTRACT_WORKERS": str(workers),
        }
        self.root, self.home = root, home
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.files = sum(1 for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        self.svc = Service(home, env=env).start()
        self.timeline: list[tuple[float, int]] = []
        self.last_crawl = ""

    def __call__(self) -> int:
        # every run starts cold: the owner's content cache (answers kept from the run
        # before) emptied; identical content within one run is still read once
        redis.Redis.from_url(self.svc.redis_url).delete(keys.content(LOCAL_OWNER))
        xtr = self.svc.client()
        t0 = time.perf_counter()
        (self.last_crawl,) = xtr.crawl(XtractEndpoint("local", dirs=[str(self.root)]))
        self.timeline = []
        done = threading.Event()

        def sample() -> None:  # files extracted over time, for the plot
            watcher = self.svc.client()
            while not done.wait(0.2):
                status = watcher.get_xtract_status(self.last_crawl)
                got = status.get("files_extracted", 0)
                self.timeline.append((time.perf_counter() - t0, got))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            (status,) = xtr.xtract_and_wait(
                self.last_crawl, progress=False, local_mdata_path=str(self.out)
            )
        finally:
            done.set()
            sampler.join()
        assert status["xtract_status"] == "COMPLETED", status
        return self.files

    def per_extractor(self) -> dict[str, float]:
        """Seconds per file of each extractor, from the recorded documents."""
        took: dict[str, float] = defaultdict(float)
        files: dict[str, int] = defaultdict(int)
        for doc in all_documents(self.svc.client(), self.last_crawl):
            for name, s in (doc.get("extractors") or {}).items():
                took[name] += float(s.get("seconds") or 0)
                files[name] += int(s.get("files") or 0)
        return {k: took[k] / files[k] for k in sorted(took) if files[k]}

    def stop(self) -> None:
        self.svc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--doc", default="/usr/share/doc", help="real files to copy in")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xtract-bench-x-"))
    try:
        src = write_good(work / "src")
        root = work / "corpus"
        for i in range(args.copies):
            shutil.copytree(work / "src", root / f"c{i}")
        shutil.copytree(args.doc, root / "doc", symlinks=True, ignore_dangling_symlinks=True)
        paths = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
        print(f"{len(paths):,} files ({args.copies} copies of the corpus and {args.doc})")
        plain_loop(list(src.values()))  # import every library once
        runs = {w: XtractRun(root, work / f"home{w}", work / f"out{w}", w) for w in (1, 2)}
        try:
            for r in runs.values():
                r()  # the service's first run starts its extraction processes
            rows = alternate(
                {
                    "plain loop, 1 process": lambda: plain_loop(paths),
                    "xtract, 1 extraction worker": runs[1],
                    "xtract, 2 extraction workers": runs[2],
                },
                args.runs,
            )
            title = "extraction, crawl request to COMPLETED"
            table = report(title, list(rows.values()), "plain loop, 1 process")
            save(
                "extract",
                {
                    "files": len(paths),
                    "table": table,
                    "timeline": runs[2].timeline,
                    "per_extractor_s": runs[2].per_extractor(),
                },
            )
        finally:
            for r in runs.values():
                r.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
