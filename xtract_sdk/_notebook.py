"""Notebook helpers: every metadata document of a crawl as an iterator, and as a
pandas DataFrame with one row per file."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xtract_sdk.errors import XtractError
from xtract_sdk.records import items_of
from xtract_sdk.status import XtractStatus

if TYPE_CHECKING:
    from xtract_sdk.client import XtractClient


def iter_metadata(
    client: XtractClient, crawl_id: str, page: int, follow: bool, interval: float
) -> Iterator[dict[str, Any]]:
    """Every document, a page at a time; with ``follow``, until the extraction ends."""
    after = None
    while True:
        got = client.get_metadata(crawl_id, after=after, limit=page)
        yield from got["documents"]
        after = got["next"] or after
        if got["count"] == page:
            continue
        if not follow:
            return
        state = client.get_xtract_status(crawl_id)
        if state["xtract_status"] in XtractStatus.terminal():
            last = client.get_metadata(crawl_id, after=after, limit=page)
            yield from last["documents"]
            if last["count"] < page:
                return
            after = last["next"]
            continue
        time.sleep(interval)


def to_dataframe(client: XtractClient, crawl_id: str) -> Any:
    """One typed row per file, the columns of a Parquet export (``mtime`` a UTC
    timestamp, a struct per extractor, ``errors``, ``metadata_json``): the table
    :func:`to_duckdb` makes, as a pandas DataFrame."""
    try:
        import pandas  # noqa: F401  (DuckDB's .df() needs it)
    except ImportError:
        raise XtractError(
            "to_pandas needs pandas, duckdb and pyarrow: pip install 'xtract[pandas]'"
        ) from None
    return to_duckdb(client, crawl_id).execute("SELECT * FROM files").df()


def to_duckdb(
    client: XtractClient, crawl_id: str, connection: Any = None, wait: float = 60.0
) -> Any:
    """A DuckDB connection (a new in-memory one, or ``connection``) holding the crawl's
    metadata as ``files``: one typed row per file, the columns of a Parquet export (see
    :mod:`xtract_sdk.tables`). ``files`` is a view over the service's metadata index,
    whose Parquet parts are fetched into a local cache (``~/.cache/xtract/index``; a
    part fetched once is not fetched again) and loaded once into a DuckDB file there
    (per state of the index), after waiting up to ``wait`` seconds for documents still
    being indexed. The SQL runs here, in this DuckDB."""
    try:
        import duckdb
        import pyarrow  # noqa: F401  (parquet_table needs it)
    except ImportError:
        raise XtractError(
            "to_duckdb needs duckdb and pyarrow: pip install 'xtract[pandas]'"
        ) from None
    status = client.index_status(crawl_id)
    deadline = time.monotonic() + wait
    while status["pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
        status = client.index_status(crawl_id)
    con = connection if connection is not None else duckdb.connect()
    if not status["parts"]:  # nothing indexed (an empty crawl, or an older service)
        return _from_documents(client, crawl_id, con)
    table = _local_table(client, crawl_id, status)
    alias = "xtract_" + hashlib.sha256(crawl_id.encode()).hexdigest()[:12]
    con.execute(f"DETACH DATABASE IF EXISTS {alias}")
    con.execute(f"ATTACH '{_quoted(str(table))}' AS {alias} (READ_ONLY)")
    con.execute(f"CREATE OR REPLACE VIEW files AS SELECT * FROM {alias}.files")
    return con


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _local_table(client: XtractClient, crawl_id: str, status: dict[str, Any]) -> Path:
    """A DuckDB file holding the index's current rows as the table ``files``, made
    once per state of the index (its parts' names and sizes) from the fetched parts:
    a query then reads DuckDB's own storage, not the parts."""
    import duckdb

    folder = _cache_folder(client, crawl_id)
    signature = hashlib.sha256(
        json.dumps([[p["name"], p["bytes"]] for p in status["parts"]]).encode()
    ).hexdigest()
    table = folder / f"files-{signature[:16]}.duckdb"
    if table.exists():
        return table
    paths = _fetched_parts(client, crawl_id, status["parts"])
    listed = "[" + ", ".join(f"'{_quoted(p)}'" for p in paths) + "]"
    tmp = folder / f".files-{os.getpid()}-{signature[:16]}.duckdb"
    tmp.unlink(missing_ok=True)
    build = duckdb.connect(str(tmp))
    try:
        build.execute(f"CREATE TABLE files AS {status['current_rows_sql'].format(parts=listed)}")
    finally:
        build.close()
    tmp.replace(table)
    for old in folder.glob("files-*.duckdb"):
        if old != table:
            old.unlink(missing_ok=True)  # an earlier state of the index
    return table


def _cache_folder(client: XtractClient, crawl_id: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    service = hashlib.sha256(client.base_url.encode()).hexdigest()[:16]
    folder = Path(base) / "xtract" / "index" / service / crawl_id
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _fetched_parts(client: XtractClient, crawl_id: str, parts: list[dict[str, Any]]) -> list[str]:
    """The local copies of the index's parts, fetching those not cached (a part's name
    and size name its content: parts are written once and never changed)."""
    folder = _cache_folder(client, crawl_id)
    wanted = {p["name"]: p["bytes"] for p in parts}
    for old in folder.glob("*.parquet"):
        if wanted.get(old.name) != old.stat().st_size:
            old.unlink(missing_ok=True)  # merged away, or a copy cut short
    out = []
    for name in wanted:
        local = folder / name
        if not local.exists():
            data = client.index_part(crawl_id, name)
            tmp = folder / f".{name}.part"
            tmp.write_bytes(data)
            tmp.replace(local)
        out.append(str(local))
    return out


def _from_documents(client: XtractClient, crawl_id: str, con: Any) -> Any:
    from xtract_sdk.tables import FIELDS, parquet_table

    # the typed fields the service's extractors declare, as its Parquet exports have them
    declared = {e["name"]: e["fields"] for e in client.list_extractors() if e.get("fields")}
    files = parquet_table(
        [
            item
            for doc in client.metadata(crawl_id, follow=False)
            for item in items_of({**doc, "crawl_id": doc.get("crawl_id", crawl_id)})
        ],
        {**FIELDS, **declared},
    )
    con.register("_xtract_files", files)
    con.execute("CREATE OR REPLACE TABLE files AS SELECT * FROM _xtract_files")
    con.unregister("_xtract_files")
    return con
