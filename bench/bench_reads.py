"""Reads: a crawl's 100,000 file records fetched through the SDK against ``find``
listing the same files, taking turns:

- ``find DIR -type f -printf '%s %p\\n'`` (what a user would run to get the list),
- flushing: ``flush_crawl_metadata`` page after page, ``--page`` records a call (each
  record handed out once; the crawl is re-run before each flush, untimed, so there is
  something to flush).

Run: ``python bench/bench_reads.py --files 100000`` (pages of 10,000), and with
``--page 100`` for the SDK's default page (saved as ``reads-page100``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from common import Row, alternate, report, save, timed_command

from tests.support import Service, make_tree
from xtract_sdk import XtractEndpoint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--page", type=int, default=10_000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xtract-bench-r-"))
    try:
        root = work / "tree"
        make_tree(root, args.files, fanout=8, depth=3)
        env = {"XTRACT_ALLOWED_ROOTS": json.dumps([str(root)])}
        svc = Service(work / "home", env=env).start()
        try:
            xtr = svc.client()
            xep = XtractEndpoint("local", dirs=[str(root)])
            flush_times: list[float] = []

            def flush() -> int:
                ((cid, _),) = xtr.crawl_and_wait(xep, progress=False).items()  # untimed
                t = time.perf_counter()
                got = 0
                while True:
                    page = xtr.flush_crawl_metadata(cid, first_n_files=args.page)
                    got += len(page["file_ls"])
                    if page["queue_empty"]:
                        break
                flush_times.append(time.perf_counter() - t)
                return got

            find = ["find", str(root), "-type", "f", "-printf", "%s %p\n"]
            rows = alternate(
                {
                    "find -printf": lambda: (timed_command(find), args.files)[1],
                    "xtract flush (records handed out once)": flush,
                },
                args.runs,
            )
            # the flush row's time includes its untimed crawl: report the flush alone
            name = "xtract flush (records handed out once)"
            rows[name] = Row(name, flush_times, rows[name].items, loads=rows[name].loads)
            table = report(f"reading {args.files:,} records", list(rows.values()), "find -printf")
            results: dict[str, Any] = {"files": args.files, "page": args.page, "table": table}
            # the SDK's default page (100) is a figure of its own
            print(
                "saved", save("reads" if args.page == 10_000 else f"reads-page{args.page}", results)
            )
        finally:
            svc.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
