"""How right is type identification? libmagic alone, Magika alone, and Xtract's rule
(libmagic, then the name, then Magika for what those leave vague) on real files of
this machine, labelled by a reference the identifiers do not use: the format's own
reader (``tests/truth/reference.py``: ``ast`` parses it, PIL opens it, ``zipfile``
lists it, ``lexgrog`` finds its NAME line, ...). A file its reader refuses is not in
the set. Reports accuracy per kind and overall, and the time each identifier takes.

Run: ``python bench/bench_identify.py --per-kind 150`` (writes
``bench/results/identify.json``; ``docs/BENCHMARKS.md`` has the table).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import save

from tests.truth import corpus, reference
from xtract_extractors.builtin.filetype import _ask_magika, detect, filetype, learned_tier

# the kinds whose reader checks the content, and the types that name each rightly
RIGHT = {
    "python": {"text/x-python", "text/x-script.python"},
    "png": {"image/png"},
    "gif": {"image/gif"},
    "jpeg": {"image/jpeg"},
    "json": {"application/json"},
    "xml": {"application/xml", "text/xml"},
    "svg": {"image/svg+xml"},
    "gzip": {"application/gzip", "application/x-gzip"},
    "manual pages": {"application/gzip", "application/x-gzip"},
    "gettext": {"application/x-gettext-translation"},
    "zip/jar/wheel/tar": {"application/zip", "application/java-archive", "application/x-tar"},
    "csv/tsv/tab": {"text/csv", "text/tab-separated-values"},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-kind", type=int, default=150)
    args = ap.parse_args()
    corpus.PER_KIND = args.per_kind
    rows: list[dict[str, Any]] = []
    names = ("libmagic", "magika", "xtract", "xtract_unnamed")
    seconds = {n: 0.0 for n in names}
    misses: dict[str, list[str]] = {n: [] for n in names}
    for kind in reference.KINDS:
        if kind.name not in RIGHT:
            continue
        right = RIGHT[kind.name]
        counts = {"files": 0, **{n: 0 for n in names}}
        for path in kind.files():
            if kind.truth(path) is None:
                continue
            counts["files"] += 1
            with open(path, "rb") as f:
                head = f.read(8192)
            t = time.perf_counter()
            magic = detect(head, True, "")["mimetype"]  # the bytes alone
            seconds["libmagic"] += time.perf_counter() - t
            t = time.perf_counter()
            learned = (_ask_magika(str(path)) or {}).get("magika_mimetype")
            seconds["magika"] += time.perf_counter() - t
            t = time.perf_counter()
            ours = filetype(str(path), hash=False)["mimetype"]
            seconds["xtract"] += time.perf_counter() - t
            t = time.perf_counter()  # the same rule, the file's name unknown
            unnamed = learned_tier(detect(head, True, ""), str(path))["mimetype"]
            seconds["xtract_unnamed"] += time.perf_counter() - t
            said_by = zip(names, (magic, learned, ours, unnamed), strict=True)
            for name, said in said_by:
                if said in right:
                    counts[name] += 1
                elif len(misses[name]) < 200:
                    misses[name].append(f"{path}: {said}")
        rows.append({"kind": kind.name, **counts})
    total = {k: sum(r[k] for r in rows) for k in ("files", *names)}
    print(f"{'kind':<20} {'files':>6} " + " ".join(f"{n:>15}" for n in names))
    for r in [*rows, {"kind": "all", **total}]:
        n = r["files"] or 1
        print(f"{r['kind']:<20} {r['files']:>6} " + " ".join(f"{r[k] / n:>15.1%}" for k in names))
    per_file = {k: 1000 * v / max(total["files"], 1) for k, v in seconds.items()}
    print("ms per file: " + ", ".join(f"{k} {v:.2f}" for k, v in per_file.items()))
    save("identify", {"rows": rows, "total": total, "ms_per_file": per_file, "misses": misses})


if __name__ == "__main__":
    main()
