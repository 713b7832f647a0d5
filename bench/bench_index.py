"""The metadata index: questions about a crawl's metadata answered by ``xtract query``
(the CLI, a new process each time: what a user types) and the SDK's ``to_duckdb``, both
over the service's index, side by side with DuckDB over the crawl's Parquet export by
hand (what a user would do instead), taking turns, median of ``--runs``. Also what the
index costs: the indexer process's CPU seconds against the extraction's wall time, and
how long after the extraction ends the index is complete.

Warm: the SDK's part cache is filled by one untimed call first (the first call fetches
the parts: its time is reported on its own), the page cache holds the files.

Run: ``python bench/bench_index.py [--dir /usr/share] [--runs 5]``, or with ``--tree
1000000`` on a generated tree of that many small files (a real crawl and extraction of
a million files, the index's scale check).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import alternate, report, save

from tests.support import Service, make_tree
from xtract_sdk import XtractEndpoint

QUERIES = {
    "count": "SELECT count(*) FROM files",
    "by type": "SELECT mimetype, count(*) FROM files GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
    "describe": "DESCRIBE files",
    "path like": "SELECT count(*) FROM files WHERE path LIKE '%README%'",
    "with errors": "SELECT count(*) FROM files WHERE len(errors) > 0",
}


def _cpu_seconds(pid: str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    import duckdb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/usr/share")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--extractors", default="", help="comma-separated; default filetype only")
    ap.add_argument("--tree", type=int, default=0, help="crawl a generated tree of N files")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xtract-bench-index-"))
    if args.tree:
        args.dir = str(work / "tree")
        t = time.perf_counter()
        make_tree(Path(args.dir), args.tree, fanout=10, depth=3)
        print(f"made {args.tree:,} files in {time.perf_counter() - t:.0f}s", flush=True)
    exports = work / "exports"
    exports.mkdir()
    env = {"XTRACT_ALLOWED_ROOTS": json.dumps([args.dir, str(exports)])}
    svc = Service(work / "home", env=env).start()
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    try:
        xtr = svc.client()
        ((cid, crawled),) = xtr.crawl_and_wait(
            XtractEndpoint("local", dirs=[args.dir]), progress=False
        ).items()
        files = crawled["data"]["files_crawled"]
        (indexer,) = svc.worker_pids("indexer")
        cpu0 = _cpu_seconds(indexer)
        extractors = [e for e in args.extractors.split(",") if e]
        t = time.perf_counter()
        xtr.xtract_and_wait(cid, progress=False, extractors=extractors, timeout=7200)
        extract_s = time.perf_counter() - t
        while xtr.index_status(cid)["pending"]:
            time.sleep(0.05)
        lag_s = time.perf_counter() - t - extract_s
        index_cpu = _cpu_seconds(indexer) - cpu0
        status = xtr.index_status(cid)

        folder = Path(
            xtr.offload_metadata(dest_path=str(exports), crawl_ids=[cid], format="parquet")
        )
        source = f"'{folder / cid}/*.parquet'"
        t = time.perf_counter()
        xtr.to_duckdb(cid)  # fetches the parts into the cache
        first_fetch_s = time.perf_counter() - t
        cli_env = {**os.environ, "XTRACT_URL": xtr.base_url, "XTRACT_TOKEN": xtr.http._token or ""}
        results: dict[str, Any] = {}
        for name, sql in QUERIES.items():
            by_hand = sql.replace("FROM files", f"FROM {source}")
            if name == "describe":
                by_hand = f"DESCRIBE SELECT * FROM {source}"

            def cli(sql: str = sql) -> int:
                subprocess.run(
                    [sys.executable, "-m", "xtract_service.cli", "query", cid, sql],
                    env=cli_env, capture_output=True, check=True,
                )  # fmt: skip
                return 1

            def sdk(sql: str = sql) -> int:
                xtr.to_duckdb(cid).execute(sql).fetchall()
                return 1

            def duck(sql: str = by_hand) -> int:
                duckdb.connect().execute(sql).fetchall()
                return 1

            rows = alternate(
                {"xtract query (CLI)": cli, "SDK to_duckdb": sdk, "DuckDB over the export": duck},
                args.runs,
            )
            results[name] = report(
                f"{name} ({files:,} files)",
                list(rows.values()),
                "DuckDB over the export",
                "queries",
            )
        out = {
            "tree": args.dir if not args.tree else f"generated, {args.tree:,} files",
            "files": files,
            "extractors": extractors or ["filetype"],
            "extract_seconds": round(extract_s, 2),
            "index_cpu_seconds": round(index_cpu, 2),
            "index_share_of_extraction": round(index_cpu / extract_s, 4),
            "index_complete_after_extraction_seconds": round(lag_s, 2),
            "index_parts": len(status["parts"]),
            "index_rows": status["rows"],
            "first_to_duckdb_seconds": round(first_fetch_s, 2),
            "queries": results,
        }
        print(json.dumps({k: v for k, v in out.items() if k != "queries"}, indent=2))
        save("index_tree" if args.tree else "index", out)
    finally:
        svc.stop()


if __name__ == "__main__":
    main()
