"""The metadata index at a million file records, without a crawl: synthetic documents
(a file record each, with filetype's metadata) written as index parts by the indexer's
own code and as a Parquet export, then the same questions asked the SDK's way (the
index's current rows loaded once into a DuckDB file, attached, queried) and by hand
(DuckDB over the export's Parquet), taking turns, median of ``--runs``. The one-time
load is reported on its own. The service and HTTP are left out: `bench_index.py`
measures them on a real crawl.

Run: ``python bench/bench_index_scale.py [--files 1000000]``.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from common import alternate, report, save

from xtract_sdk.tables import parquet_table
from xtract_service.extraction.index import CURRENT_ROWS, _rows, export_fields

QUERIES = {
    "count": "SELECT count(*) FROM {t}",
    "by type": "SELECT mimetype, count(*) FROM {t} GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
    "path like": "SELECT count(*) FROM {t} WHERE path LIKE '%README%'",
    "big files": "SELECT path, size FROM {t} ORDER BY size DESC LIMIT 10",
}
TYPES = ["text/plain", "text/csv", "image/png", "application/json", "text/x-python"]


def _docs(start: int, n: int, rng: random.Random) -> list[dict[str, Any]]:
    docs = []
    for i in range(start, start + n):
        path = f"/data/run{i % 97}/dir{i % 1013}/file{i}{'_README' if i % 500 == 0 else ''}.dat"
        mimetype = TYPES[i % len(TYPES)]
        size = rng.randrange(1, 1 << 30)
        docs.append(
            {
                "family_id": f"f{i}",
                "crawl_id": "bench",
                "extracted_at": 1.0,
                "files": [{"path": path, "size": size, "extension": "dat", "mtime": 1.7e9 + i}],
                "metadata": {
                    path: {"filetype": {"mimetype": mimetype, "size": size, "sha256": f"{i:064x}"}}
                },
                "errors": [],
                "unknown": [],
            }
        )
    return docs


def main() -> None:
    import duckdb
    import pyarrow.parquet as pq

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xtract-bench-scale-"))
    (work / "index").mkdir()
    (work / "export").mkdir()
    rng = random.Random(7)
    fields = export_fields()
    chunk = 100_000
    parts = []
    for n, start in enumerate(range(0, args.files, chunk), 1):
        docs = _docs(start, min(chunk, args.files - start), rng)
        part = work / "index" / f"part-{n:05d}.parquet"
        part.write_bytes(_rows(docs, "bench", fields))
        parts.append(str(part))
        from xtract_sdk.records import items_of

        table = parquet_table([it for d in docs for it in items_of(d)], fields)
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")  # type: ignore[no-untyped-call]
        (work / "export" / f"part-{n:05d}.parquet").write_bytes(buf.getvalue())
    listed = "[" + ", ".join(f"'{p}'" for p in parts) + "]"
    t = time.perf_counter()
    build = duckdb.connect(str(work / "files.duckdb"))
    build.execute(f"CREATE TABLE files AS {CURRENT_ROWS.format(parts=listed)}")
    build.close()
    load_s = time.perf_counter() - t
    export = f"'{work / 'export'}/*.parquet'"
    results = {}
    for name, sql in QUERIES.items():

        def sdk(sql: str = sql) -> int:
            con = duckdb.connect()
            con.execute(f"ATTACH '{work / 'files.duckdb'}' AS x (READ_ONLY)")
            con.execute(sql.format(t="x.files")).fetchall()
            return 1

        def by_hand(sql: str = sql) -> int:
            duckdb.connect().execute(sql.format(t=export)).fetchall()
            return 1

        rows = alternate(
            {"SDK (index, attached)": sdk, "DuckDB over the export": by_hand}, args.runs
        )
        results[name] = report(
            f"{name} ({args.files:,} records)",
            list(rows.values()),
            "DuckDB over the export",
            "queries",
        )
    out = {"files": args.files, "index_load_seconds": round(load_s, 2), "queries": results}
    print(json.dumps({"files": args.files, "index_load_seconds": round(load_s, 2)}))
    save("index_scale", out)


if __name__ == "__main__":
    main()
