"""Notebook helpers: every metadata document of a crawl as an iterator, and as a
pandas DataFrame with one row per file."""

from __future__ import annotations

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
    """One row per file: path, size, extension, mtime, mimetype, unknown, family_id,
    and the ``metadata`` and ``errors`` columns."""
    try:
        import pandas as pd
    except ImportError:
        raise XtractError("to_pandas needs pandas: pip install 'xtract[pandas]'") from None
    rows = [item for doc in client.metadata(crawl_id) for item in items_of(doc)]
    return pd.DataFrame(rows)


def to_duckdb(
    client: XtractClient, crawl_id: str, connection: Any = None, wait: float = 60.0
) -> Any:
    """A DuckDB connection (a new in-memory one, or ``connection``) holding the crawl's
    metadata as ``files``: one typed row per file, the columns of a Parquet export (see
    :mod:`xtract_sdk.tables`). ``files`` is a view over the service's metadata index,
    whose Parquet parts are fetched into a local cache (``~/.cache/xtract/index``; a
    part fetched once is not fetched again), after waiting up to ``wait`` seconds for
    documents still being indexed. The SQL runs here, in this DuckDB."""
    try:
        import duckdb
        import pyarrow  # noqa: F401  (parquet_table needs it)
    except ImportError:
        raise XtractError(
            "to_duckdb needs duckdb and pyarrow: pip install 'xtract[tabular]'"
        ) from None
    status = client.index_status(crawl_id)
    deadline = time.monotonic() + wait
    while status["pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
        status = client.index_status(crawl_id)
    con = connection if connection is not None else duckdb.connect()
    if not status["parts"]:  # nothing indexed (an empty crawl, or an older service)
        return _from_documents(client, crawl_id, con)
    paths = _fetched_parts(client, crawl_id, status["parts"])
    listed = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
    con.execute(
        f"CREATE OR REPLACE VIEW files AS {status['current_rows_sql'].format(parts=listed)}"
    )
    return con


def _cache_folder(client: XtractClient, crawl_id: str) -> Path:
    import hashlib

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
    for old in folder.iterdir():
        if wanted.get(old.name) != (old.stat().st_size if old.is_file() else None):
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
