"""Keyword extraction: its cost per file and its quality with a bounded text sample.
YAKE runs on up to ``max_chars`` characters; on real text files (Debian's docs) this
times the shipped default against smaller samples, and reports how many of the top 10
keywords each sample keeps of the full-default answer (overlap), side by side.

Run: ``python bench/bench_keywords.py --files 150``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xtract_extractors.builtin.keyword import keyword


def texts(n: int) -> list[Path]:
    found = []
    for p in sorted(Path("/usr/share/doc").rglob("*")):
        if p.is_file() and p.suffix in ("", ".txt", ".md", ".rst") and p.stat().st_size > 2000:
            try:
                p.read_text()
            except (UnicodeDecodeError, OSError):
                continue
            found.append(p)
        if len(found) >= n:
            break
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=150)
    args = ap.parse_args()
    files = texts(args.files)
    sizes = [p.stat().st_size for p in files]
    print(
        f"{len(files)} text files, median {statistics.median(sizes):,.0f} bytes, "
        f"max {max(sizes):,} bytes"
    )
    reference: dict[Path, set[str]] = {}
    for max_chars in (100_000, 20_000, 10_000):
        took, overlap = [], []
        for p in files:
            t = time.perf_counter()
            md = keyword(str(p), top=10, max_chars=max_chars)
            took.append(time.perf_counter() - t)
            words = {k.lower() for k, _ in md["keywords"]}
            if max_chars == 100_000:
                reference[p] = words
            elif reference[p]:
                overlap.append(len(words & reference[p]) / len(reference[p]))
        q = f", top-10 overlap with 100k: {statistics.mean(overlap):.0%}" if overlap else ""
        print(
            f"max_chars {max_chars:>7,}: {1000 * statistics.mean(took):6.1f} ms/file mean, "
            f"{1000 * max(took):7.1f} ms max{q}"
        )


if __name__ == "__main__":
    main()
