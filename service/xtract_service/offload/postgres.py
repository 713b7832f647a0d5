"""The ``postgres`` export driver: every file's row upserted by path into a PostgreSQL
table, so a re-run (or a resumed offload) updates rows rather than doubling them. It
is registered through the ``xtract.exporters`` entry point, as any other package's
driver would be.

The table (made if missing) has the export's file columns, typed (``path`` the primary
key, ``mtime`` a ``timestamptz``), and ``metadata`` and ``errors`` as ``jsonb``.
``dsn`` is a libpq connection string without a password (a password has no place in
an offload's stored parameters: use a Unix socket with peer or trust authentication,
or libpq's password file, ``~/.pgpass`` or ``PGPASSFILE``, on the machine the offload
workers run on). Each part of rows is written in one transaction; the part the export
folder keeps is a receipt of it (table, rows, paths' checksum).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from xtract_extractors.registry import param
from xtract_service.offload.formats import PartWriter, writer
from xtract_service.offload.pipeline import ITEM_FIELDS

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# an export item's fields, the path (the key) first
COLUMNS = ("path", *(f for f in ITEM_FIELDS if f != "path"))
_CREATE = """CREATE TABLE IF NOT EXISTS {table} (
    path text PRIMARY KEY,
    crawl_id text,
    family_id text,
    size bigint,
    extension text,
    mtime timestamptz,
    mimetype text,
    unknown boolean,
    metadata jsonb,
    errors jsonb
)"""


def check_dsn(dsn: str) -> str:
    """ValueError for a connection string that carries a password."""
    if re.search(r"(^|\s)password\s*=|://[^/@\s]*:[^/@\s]*@", dsn):
        raise ValueError(
            "dsn must not carry a password: use a Unix socket, or libpq's password file "
            "(~/.pgpass or PGPASSFILE) on the offload workers' machine"
        )
    return dsn


def _row(item: dict[str, Any]) -> tuple[Any, ...]:
    """An item's values in :data:`COLUMNS` order, as the table's types take them."""
    mtime = item.get("mtime")
    typed = {
        "mtime": datetime.fromtimestamp(float(mtime), UTC)
        if isinstance(mtime, int | float)
        else None,
        "unknown": bool(item.get("unknown")),
        "metadata": json.dumps(item.get("metadata") or {}, default=str),
        "errors": json.dumps(item.get("errors") or [], default=str),
    }
    return tuple(typed[c] if c in typed else item.get(c) for c in COLUMNS)


@writer(
    "postgres",
    "Every file's row upserted by path into a PostgreSQL table (metadata and errors as "
    "jsonb); re-runs update rows, never double them.",
)
@param("dsn", str, optional=False, desc="libpq connection string, without a password")
@param("table", str, default="xtract_files", desc="the table (made if missing)")
@param("max_items", int, default=5000, low=1, high=100_000, desc="rows per transaction")
class PostgresWriter(PartWriter):
    suffix = ".json"

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> None:
        check_dsn(str(options.get("dsn") or ""))
        table = str(options.get("table") or "xtract_files")
        if not _IDENTIFIER.match(table):
            raise ValueError(f"table {table!r}: lower-case letters, digits and _ only")

    def __init__(self, folder: int, first_part: int = 0, **params: Any) -> None:
        super().__init__(folder, first_part, **params)
        self.check_options(params)
        self.table = str(params.get("table") or "xtract_files")

    def prepare(self, item: dict[str, Any]) -> tuple[Any, int]:
        row = _row(item)
        return row, 256 + len(row[-2]) + len(row[-1])  # metadata and errors, as JSON

    def encode(self, items: list[Any]) -> bytes:
        import psycopg

        names = ", ".join(COLUMNS)
        marks = ", ".join(["%s"] * len(COLUMNS))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
        upsert = (
            f"INSERT INTO {self.table} ({names}) VALUES ({marks}) "
            f"ON CONFLICT (path) DO UPDATE SET {updates}"
        )
        with psycopg.connect(str(self.options["dsn"]), connect_timeout=30) as con:
            con.execute(_CREATE.format(table=self.table))
            with con.cursor() as cur:
                cur.executemany(upsert, items)
            con.commit()
        paths = hashlib.sha256("\n".join(str(r[0]) for r in items).encode()).hexdigest()
        receipt = {"table": self.table, "rows": len(items), "paths_sha256": paths}
        return json.dumps(receipt).encode()
