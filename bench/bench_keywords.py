"""Keyword extraction: cost per file and quality, the shipped ``keyword`` extractor
(yake-rust) against what a user would write instead (the ``yake`` package's
``KeywordExtractor``, same n-gram size, same text), on real text files nobody here
wrote (Debian's ``/usr/share/doc``), taking turns over several runs.

Quality: the ``yake`` package's answer is the reference. For each file: how many of
its top 10 the shipped extractor also ranks top 10, how many of the shipped top 10 are
in the reference's top 40 (the same keywords, ranked a little differently near the
cut-off), and the same with smaller text samples (``max_chars``).

Run: ``python bench/bench_keywords.py --files 120`` (needs ``pip install yake``:
``make bench`` installs the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from common import alternate, report, save

from xtract_extractors.builtin.keyword import _text_of, keywords_of


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


def yake_package(text: str, top: int) -> list[str]:
    import yake  # the bench extra

    return [
        k.lower() for k, _ in yake.KeywordExtractor(lan="en", n=2, top=top).extract_keywords(text)
    ]


def shipped(text: str, top: int) -> list[str]:
    return [k.lower() for k, _ in keywords_of(text, top=top)["keywords"]]


def overlap(a: list[str], b: list[str]) -> float:
    return len(set(a) & set(b)) / len(a) if a else 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=120)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    files = texts(args.files)
    docs = [_text_of(str(p), 100_000)[0] for p in files]
    sizes = [len(d) for d in docs]
    print(f"{len(docs)} text files, median {statistics.median(sizes):,.0f} characters")
    shipped(docs[0], 10), yake_package(docs[0], 10)  # load both once

    rows = alternate(
        {
            "yake package, plain loop": lambda: len([yake_package(d, 20) for d in docs]),
            "keyword extractor (default: first 20,000 chars)": lambda: len(
                [shipped(d[:20_000], 20) for d in docs]
            ),
            "  yake-rust on up to 100,000 chars": lambda: len([shipped(d, 20) for d in docs]),
        },
        args.runs,
    )
    table = report(
        "keywords per file (language detection included)",
        list(rows.values()),
        "yake package, plain loop",
    )

    reference = [yake_package(d, 40) for d in docs]
    quality: dict[str, Any] = {}
    print(f"\n{'text sample':<22}{'top-10 in ref top 10':>22}{'top-10 in ref top 40':>22}")
    for max_chars in (100_000, 20_000, 10_000):
        got = [shipped(d[:max_chars], 10) for d in docs]
        same10 = statistics.mean(overlap(r[:10], g) for r, g in zip(reference, got, strict=True))
        within40 = statistics.mean(overlap(g, r) for r, g in zip(reference, got, strict=True))
        quality[str(max_chars)] = {"top10_in_ref_top10": same10, "top10_in_ref_top40": within40}
        print(f"max_chars {max_chars:>9,}{same10:>22.0%}{within40:>22.0%}")
    save(
        "keywords",
        {
            "files": len(docs),
            "table": table,
            "quality": quality,
            "median_chars": statistics.median(sizes),
        },
    )


if __name__ == "__main__":
    main()
