"""``tabular``: delimited text (CSV, TSV, ...), read with DuckDB's CSV sniffer.

Chosen by measurement on files nobody here wrote (see ``docs/design.md``): on Debian's
``distro-info`` CSVs (ragged rows under a full header) and numpy's ``umath`` validation
sets (``##`` comment lines), the standard-library sniffer this replaced lost the header
and counted comments as rows; DuckDB's finds the header, the comment character, the
preamble to skip, and types the columns, dates and timestamps included, in
milliseconds. The row count is DuckDB's full parse of the file (C++, streaming), so it
counts records, not newlines: quoted newlines and comment lines are not rows.

The profile (min/max/mean, missing values, distinct values, the most common text
values) is computed over the first ``max_rows`` rows. Where DuckDB is not installed or
gives up on a file, the standard-library reader in ``_csv_stdlib`` answers, and says so
in ``reader``.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from ..registry import extractor, param
from ._common import decode_text
from ._csv_stdlib import profile_stdlib

# DuckDB's types, as the words this extractor has always used
_TYPES = {
    "BIGINT": "integer",
    "INTEGER": "integer",
    "HUGEINT": "integer",
    "SMALLINT": "integer",
    "TINYINT": "integer",
    "UBIGINT": "integer",
    "DOUBLE": "number",
    "FLOAT": "number",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "datetime",
    "TIMESTAMP WITH TIME ZONE": "datetime",
    "VARCHAR": "text",
    "NULL": "empty",
}
MAX_TOP_COLUMNS = 50  # text columns whose most common values are listed


def _kind(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return "number"
    return _TYPES.get(duckdb_type, "text")


def _plain(value: Any) -> Any:
    """A value DuckDB returned, as JSON takes it."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, int | bool) or value is None:
        return value
    return str(value)


def _connect() -> Any:
    import duckdb

    # one thread and a bounded memory, inside the extraction process's own limits
    return duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})


def _options(encoding: str, strict: bool) -> tuple[str, list[Any]]:
    sql = "null_padding := true, sample_size := 20480, encoding := ?"
    if not strict:
        sql += ", ignore_errors := true"
    return sql, [encoding]


def profile_duckdb(
    path: str, sample_bytes: int, max_rows: int, top_values: int, warnings: list[str]
) -> dict[str, Any]:
    with open(path, "rb") as f:
        head = f.read(min(sample_bytes, 1 << 20))
    if not head.strip():
        return {"rows": 0, "columns": 0, "warnings": ["the file is empty"], "reader": "duckdb"}
    if b"\x00" in head:
        raise ValueError("binary data (NUL bytes), not delimited text")
    text, more = decode_text(head)
    warnings += more
    encoding = "latin-1" if more else "utf-8"
    import duckdb

    con = _connect()
    try:
        try:
            return _profile(con, path, text, encoding, True, max_rows, top_values, warnings)
        except duckdb.InvalidInputException as exc:  # a row that does not parse
            warnings.append(
                f"some rows do not parse ({str(exc).splitlines()[0][:200]}); "
                "they are left out of the count and the profile"
            )
            return _profile(con, path, text, encoding, False, max_rows, top_values, warnings)
    finally:
        con.close()


def _profile(
    con: Any,
    path: str,
    text: str,
    encoding: str,
    strict: bool,
    max_rows: int,
    top_values: int,
    warnings: list[str],
) -> dict[str, Any]:
    opts, args = _options(encoding, strict)
    sniff = con.execute(
        "SELECT Delimiter, Quote, Escape, Comment, SkipRows, HasHeader, Columns, "
        f"DateFormat, TimestampFormat FROM sniff_csv(?, {opts})",
        [path, *args],
    ).fetchone()
    delim, quote, escape, comment, skip, header, columns, date_fmt, ts_fmt = sniff
    source = f"read_csv(?, {opts})"
    rows = con.execute(f"SELECT count(*) FROM {source}", [path, *args]).fetchone()[0]
    sample = f"(SELECT * FROM {source} LIMIT {int(max_rows)})"
    stats = {
        r[0]: r for r in con.execute(f"SUMMARIZE SELECT * FROM {sample}", [path, *args]).fetchall()
    }
    profiled = con.execute(f"SELECT count(*) FROM {sample}", [path, *args]).fetchone()[0]
    profiles = []
    text_columns = 0
    for i, col in enumerate(columns):
        name, kind = col["name"], _kind(col["type"])
        shown = name if header else f"column_{i + 1}"  # DuckDB says column0, column1, ...
        s = stats.get(name)
        prof: dict[str, Any] = {"name": shown, "type": kind, "duckdb_type": col["type"]}
        if s is not None:
            null_pct = float(s[11] or 0)  # SUMMARIZE: ..., count, null_percentage
            prof["missing"] = round(profiled * null_pct / 100) if profiled else 0
            if kind in ("integer", "number", "date", "datetime", "time"):
                prof.update(min=_plain(_typed(s[2], kind)), max=_plain(_typed(s[3], kind)))
            if kind in ("integer", "number") and s[5] is not None:
                prof["mean"] = _plain(float(s[5]))
            if kind in ("text", "boolean"):
                prof["distinct"] = int(s[4] or 0)
        if kind in ("text", "boolean") and text_columns < MAX_TOP_COLUMNS and top_values:
            text_columns += 1
            quoted = '"' + name.replace('"', '""') + '"'
            top = con.execute(
                f"SELECT {quoted}::VARCHAR AS v, count(*) AS n FROM {sample} "
                f"WHERE {quoted} IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {int(top_values)}",
                [path, *args],
            ).fetchall()
            prof["top_values"] = [[str(v), int(n)] for v, n in top]
        profiles.append(prof)
    lines = text.splitlines()
    out: dict[str, Any] = {
        "reader": "duckdb",
        "delimiter": delim,
        "quote": None if quote in ("(empty)", "") else quote,
        "escape": None if escape in ("(empty)", "") else escape,
        "comment": None if comment in ("(empty)", "") else comment,
        "header": bool(header),
        "preamble_lines": int(skip),
        "preamble": lines[: int(skip)][:20],
        "rows": int(rows),
        "columns": len(columns),
        "column_profiles": profiles,
        "rows_profiled": int(profiled),
        "sampled": int(profiled) < int(rows),
    }
    if date_fmt:
        out["date_format"] = date_fmt
    if ts_fmt:
        out["timestamp_format"] = ts_fmt
    if warnings:
        out["warnings"] = warnings
    return out


def _typed(value: Any, kind: str) -> Any:
    """SUMMARIZE gives min and max as text; numbers back as numbers."""
    if value is None or kind not in ("integer", "number"):
        return value
    try:
        return int(value) if kind == "integer" else float(value)
    except (TypeError, ValueError):
        return value


@extractor(
    "tabular",
    reads_name="extension",  # .tsv/.tab names the delimiter when the sniffer cannot
    kinds=["tabular"],
    extensions=["csv", "tsv", "tab", "psv", "dat"],
    mimetypes=["text/csv", "text/tab-separated-values"],
    version="2.0",
    family="tabular",
)
@param(
    "sample_bytes",
    int,
    default=1 << 20,
    low=1,
    high=64 << 20,
    desc="bytes read to show the preamble (and sniffed by the fallback reader)",
)
@param("max_rows", int, default=10_000, high=1_000_000, desc="rows profiled")
@param("top_values", int, default=5, high=100, desc="most common values listed per text column")
def tabular(
    path: str, sample_bytes: int = 1 << 20, max_rows: int = 10_000, top_values: int = 5
) -> dict[str, Any]:
    """Profile a delimited text file: dialect, header, preamble, comment lines, true row
    count, column types (dates and datetimes too) and statistics."""
    warnings: list[str] = []
    with open(path, "rb") as f:
        head = f.read(min(sample_bytes, 1 << 20))
    if len(head) == min(sample_bytes, 1 << 20) and b"\n" not in head:
        # a line longer than the sample: DuckDB would buffer it whole; the bounded reader
        # profiles its start (DuckDB is not even loaded)
        out = profile_stdlib(path, sample_bytes, max_rows, top_values)
        out["reader"] = "stdlib"
        return out
    try:
        import duckdb
    except ImportError:
        out = profile_stdlib(path, sample_bytes, max_rows, top_values)
        out["reader"] = "stdlib"
        out.setdefault("warnings", []).append(
            "duckdb is not installed: pip install 'xtract[tabular]'"
        )
        return out
    try:
        return profile_duckdb(path, sample_bytes, max_rows, top_values, warnings)
    except duckdb.Error as exc:  # its sniffer gave up
        out = profile_stdlib(path, sample_bytes, max_rows, top_values)
        out["reader"] = "stdlib"
        reason = str(exc).splitlines()[0][:200]
        out.setdefault("warnings", []).append(f"DuckDB could not read it ({reason})")
        return out
