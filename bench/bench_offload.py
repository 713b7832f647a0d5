"""Offload writers against writing the same records by hand: Xtract's ``parquet`` and
``jsonl`` writers (typed schema, case-unique keys, checksummed parts written durably)
next to one ``pyarrow.Table.from_pylist`` + ``pq.write_table`` and one ``json.dumps``
loop over the same items, several runs alternated, medians and the ratio printed.

A ratio above 1 means the writer was faster than by hand; the target is above 0.67
(within 1.5x). Run: ``python bench/bench_offload.py --items 50000 --runs 5``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from common import alternate, report, save

from xtract_service.offload.formats import open_writer
from xtract_service.streams import Cursor


def items(n: int) -> list[dict[str, Any]]:
    """Items shaped as an extraction's (a CSV, a text file, an image, in turn)."""
    out = []
    for i in range(n):
        md: dict[str, Any] = {
            "filetype": {
                "mimetype": "text/csv",
                "detected_by": "libmagic",
                "size": 100 + i,
                "sha256": f"{i:064x}",
                "unknown": False,
                "reason": "from the bytes",
            },
        }
        if i % 3 == 0:
            md["tabular"] = {
                "reader": "duckdb",
                "delimiter": ",",
                "header": True,
                "rows": i,
                "columns": 4,
                "column_profiles": [{"name": "a", "type": "integer", "min": 0, "max": i}],
            }
        elif i % 3 == 1:
            md["keyword"] = {
                "language": "en",
                "word_count": 40 + i,
                "keywords": [["metadata", 0.01], ["crawl", 0.02]],
            }
        else:
            md["images"] = {
                "format": "PNG",
                "width": 640,
                "height": 480,
                "mode": "RGB",
                "exif": {"Value": 1, "value": 2},
            }
        out.append(
            {
                "crawl_id": "c",
                "family_id": f"f{i}",
                "path": f"/data/run/{i}.csv",
                "size": 100 + i,
                "extension": "csv",
                "mtime": 1.7e9 + i,
                "mimetype": "text/csv",
                "unknown": False,
                "metadata": md,
                "errors": [],
            }
        )
    return out


def by_hand_parquet(data: list[dict[str, Any]], folder: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {**i, "metadata": json.dumps(i["metadata"]), "errors": json.dumps(i["errors"])}
        for i in data
    ]
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf, compression="zstd")  # type: ignore[no-untyped-call]
    Path(folder, "hand.parquet").write_bytes(buf.getvalue())


def by_hand_jsonl(data: list[dict[str, Any]], folder: str) -> None:
    with open(os.path.join(folder, "hand.jsonl"), "w") as f:
        for i in data:
            f.write(json.dumps(i) + "\n")


def xtract(fmt: str, data: list[dict[str, Any]], folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        w = open_writer(fmt, fd, 0, {"max_items": len(data) + 1})
        for n, item in enumerate(data):
            w.add_family([item], Cursor(f"{n}-0", 1))
        w.close()
    finally:
        os.close(fd)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    data = items(args.items)
    print(f"{args.items:,} items, {args.runs} runs each, alternated")

    def into_temp(fn: Any) -> Any:
        def go() -> int:
            with tempfile.TemporaryDirectory() as d:
                fn(d)
            return len(data)

        return go

    results: dict[str, Any] = {"items": args.items}
    for fmt, hand in (("parquet", by_hand_parquet), ("jsonl", by_hand_jsonl)):
        rows = alternate(
            {
                f"{fmt} by hand": into_temp(lambda d, h=hand: h(data, d)),
                f"{fmt} xtract writer": into_temp(lambda d, f=fmt: xtract(f, data, d)),
            },
            args.runs,
        )
        results[fmt] = report(
            f"{fmt}: {args.items:,} items", list(rows.values()), f"{fmt} by hand", "items"
        )
    print("saved", save("offload", results))


if __name__ == "__main__":
    main()
