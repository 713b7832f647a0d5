"""Notebook helpers: every metadata document of a crawl as an iterator, and as a
pandas DataFrame with one row per file."""

from __future__ import annotations

import time
from collections.abc import Iterator
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


def to_duckdb(client: XtractClient, crawl_id: str, connection: Any = None) -> Any:
    """A DuckDB connection (a new in-memory one, or ``connection``) holding the crawl's
    metadata as the table ``files``: one typed row per file, the same columns as a
    Parquet export (see :mod:`xtract_sdk.tables`)."""
    try:
        import duckdb
        import pyarrow  # noqa: F401  (parquet_table needs it)
    except ImportError:
        raise XtractError(
            "to_duckdb needs duckdb and pyarrow: pip install 'xtract[tabular]'"
        ) from None
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
    con = connection if connection is not None else duckdb.connect()
    con.register("_xtract_files", files)
    con.execute("CREATE OR REPLACE TABLE files AS SELECT * FROM _xtract_files")
    con.unregister("_xtract_files")
    return con
