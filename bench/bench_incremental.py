"""Re-crawling a tree that changed a little: Xtract's ``since`` crawl and extraction
against what a user would do instead, side by side, taking turns.

The tree is a copy of Debian's ``/usr/share/doc`` (files nobody here wrote) plus the
project's corpus. It is crawled and extracted once; then ``--change`` percent of its
files are edited, a few are added, removed and renamed. Each run then brings the
metadata up to date:

- **xtract since**: ``crawl(since=first)`` + extraction: lists the tree, compares it with
  the first crawl, reads only added and changed files, carries the rest forward;
- **xtract again**: a plain crawl + extraction of the whole tree on the same service
  (its content cache still spares extractors, but every file is read and hashed);
- **plain loop, every file**: the user's script run again over the whole tree (the same
  extractor functions, one after another, in one process);
- **find -newer + plain loop**: the user's best shortcut: ``find DIR -newer STAMP`` for
  files changed since the last run, then the loop over those only (it cannot see
  removed or renamed files, and trusts mtimes).

Ratios are against ``plain loop, every file``. Run: ``python bench/bench_incremental.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench_extract import plain_loop
from common import alternate, report, save

from tests.corpus import write_good
from tests.support import Service
from xtract_sdk import XtractEndpoint


def change(root: Path, share: float, rng: random.Random) -> dict[str, int]:
    """Edit, add, remove and rename files; returns how many of each."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    picked = rng.sample(files, max(1, int(len(files) * share)))
    third = len(picked) // 3 or 1
    edited, removed, renamed = picked[:third], picked[third : 2 * third], picked[2 * third :]
    for p in edited:
        with open(p, "ab") as f:
            f.write(b"\nedited for the benchmark\n")
    for p in removed:
        p.unlink()
    for p in renamed:
        if p.exists():
            p.rename(p.with_name(p.name + ".renamed"))
    added = root / "added"
    added.mkdir(exist_ok=True)
    for i in range(third):
        (added / f"new{i}.txt").write_text(f"a new file, number {i}, with a few words\n" * 20)
    return {"edited": len(edited), "removed": len(removed), "renamed": len(renamed), "added": third}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doc", default="/usr/share/doc")
    ap.add_argument("--change", type=float, default=1.0, help="percent of files changed")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(14)
    work = Path(tempfile.mkdtemp(prefix="xtract-bench-inc-"))
    try:
        root = work / "tree"
        shutil.copytree(args.doc, root / "doc", symlinks=True, ignore_dangling_symlinks=True)
        write_good(root / "corpus")
        out = work / "out"
        out.mkdir()
        env = {"XTRACT_ALLOWED_ROOTS": json.dumps([str(root), str(out)])}
        svc = Service(work / "home", env=env).start()
        xtr = svc.client()
        xep = XtractEndpoint("local", dirs=[str(root)], local_mdata_path=str(out))
        ((first, s1),) = xtr.crawl_and_wait(xep, progress=False).items()
        t = time.perf_counter()
        xtr.xtract_and_wait(first, progress=False, timeout=3600)
        print(
            f"first crawl: {s1['data']['files_crawled']:,} files, extracted in "
            f"{time.perf_counter() - t:.1f} s"
        )
        stamp = work / "stamp"
        stamp.touch()
        time.sleep(0.05)
        changed = change(root, args.change / 100, rng)
        print(f"changed: {changed}")
        every = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
        plain_loop(every[:50])  # import every library once

        def since() -> int:
            ((cid, _),) = xtr.crawl_and_wait(xep, progress=False, since=first).items()
            (x,) = xtr.xtract_and_wait(cid, progress=False, timeout=3600)
            assert x["xtract_status"] == "COMPLETED", x
            since.last = x  # type: ignore[attr-defined]
            return len(every)

        def again() -> int:
            ((cid, _),) = xtr.crawl_and_wait(xep, progress=False).items()
            (x,) = xtr.xtract_and_wait(cid, progress=False, timeout=3600)
            assert x["xtract_status"] == "COMPLETED", x
            return len(every)

        def newer() -> int:
            found = subprocess.run(
                ["find", str(root), "-type", "f", "-newer", str(stamp)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split("\n")
            plain_loop([Path(p) for p in found if p])
            return len(every)

        rows = alternate(
            {
                "plain loop, every file": lambda: plain_loop(every),
                "find -newer + plain loop": newer,
                "xtract since (crawl + extract)": since,
                "xtract again (crawl + extract)": again,
            },
            args.runs,
        )
        table = report(
            f"bringing {len(every):,} files' metadata up to date after {args.change}% changed",
            list(rows.values()),
            "plain loop, every file",
        )
        carried = since.last["families_carried"]  # type: ignore[attr-defined]
        print(f"xtract since carried {carried:,} documents forward unread")
        path = save(
            "incremental",
            {"files": len(every), "changed": changed, "carried": carried, "table": table},
        )
        print(f"saved {path}")
        svc.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        os.sync()


if __name__ == "__main__":
    main()
