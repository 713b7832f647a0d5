"""``tabular``: delimited text (CSV, TSV, ...): is it a table, and what is in it.

The dialect (delimiter, comment lines, header, preamble) is ``_sniff``'s, decided from
the lines themselves: DuckDB's own sniffer, trusted before, read Debian's
``zone1970.tab`` with a comma and its first record as the header (issue 22). DuckDB then
reads the file with that dialect, typing the columns (dates and timestamps too) and
counting the rows by a full parse (C++, streaming): records, not newlines, so quoted
newlines and comment lines are not rows.

The profile (min/max/mean, missing values, exact distinct counts, the most common text
values) covers the first ``max_rows`` rows (``sampled``). Tables split on runs of blanks,
and files DuckDB is missing for or cannot read, go to the standard-library reader in
``_csv_stdlib`` with the same dialect; ``reader`` says which read it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from decimal import Decimal
from typing import Any

from ..errors import NotATable
from ..registry import extractor, param
from ._common import decode_text
from ._csv_stdlib import profile_stdlib
from ._sniff import WHITESPACE, Dialect, fields, sniff

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


def _options(dialect: Dialect, encoding: str, strict: bool) -> tuple[str, list[Any]]:
    """read_csv's options for the sniffed dialect (DuckDB's own sniffer decides only
    the column types)."""
    sql = (
        "delim := ?, header := ?, skip := ?, quote := '\"', null_padding := true, "
        "sample_size := 20480, encoding := ?"
    )
    # with a comment character DuckDB does not count comment lines among those skipped
    skip = dialect.skip_uncommented if dialect.comment else dialect.skip
    args: list[Any] = [dialect.delimiter, dialect.header, skip, encoding]
    if dialect.comment:
        sql += ", comment := ?"
        args.append(dialect.comment)
    if not strict:
        sql += ", ignore_errors := true"
    return sql, args


def profile_duckdb(
    path: str,
    dialect: Dialect,
    encoding: str,
    max_rows: int,
    top_values: int,
    warnings: list[str],
) -> dict[str, Any]:
    import duckdb

    con = _connect()
    try:
        try:
            return _profile(con, path, dialect, encoding, True, max_rows, top_values)
        except duckdb.InvalidInputException as exc:  # a row that does not parse
            warnings.append(
                f"some rows do not parse ({str(exc).splitlines()[0][:200]}); "
                "they are left out of the count and the profile"
            )
            return _profile(con, path, dialect, encoding, False, max_rows, top_values)
    finally:
        con.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _profile(
    con: Any,
    path: str,
    dialect: Dialect,
    encoding: str,
    strict: bool,
    max_rows: int,
    top_values: int,
) -> dict[str, Any]:
    opts, args = _options(dialect, encoding, strict)
    source = f"read_csv(?, {opts})"
    columns = con.execute(f"DESCRIBE SELECT * FROM {source}", [path, *args]).fetchall()
    formats = con.execute(
        f"SELECT DateFormat, TimestampFormat FROM sniff_csv(?, {opts})", [path, *args]
    ).fetchone()
    rows = con.execute(f"SELECT count(*) FROM {source}", [path, *args]).fetchone()[0]
    sample = f"(SELECT * FROM {source} LIMIT {int(max_rows)})"
    stats = {
        r[0]: r for r in con.execute(f"SUMMARIZE SELECT * FROM {sample}", [path, *args]).fetchall()
    }
    # exact counts (SUMMARIZE's distinct count is an estimate): missing and distinct
    exact = ", ".join(
        f"count(*) - count({_quoted(c[0])}), count(DISTINCT {_quoted(c[0])})" for c in columns
    )
    counted = con.execute(f"SELECT count(*), {exact} FROM {sample}", [path, *args]).fetchone()
    profiled = int(counted[0])
    profiles = []
    text_columns = 0
    for i, col in enumerate(columns):
        name, kind = col[0], _kind(col[1])
        shown = name if dialect.header else f"column_{i + 1}"  # DuckDB: column0, ...
        prof: dict[str, Any] = {"name": shown, "type": kind, "duckdb_type": col[1]}
        prof["missing"] = int(counted[1 + 2 * i])
        s = stats.get(name)
        if s is not None and kind in ("integer", "number", "date", "datetime", "time"):
            prof.update(min=_plain(_typed(s[2], kind)), max=_plain(_typed(s[3], kind)))
            if kind in ("integer", "number") and s[5] is not None:
                prof["mean"] = _plain(float(s[5]))
        if kind in ("text", "boolean"):
            prof["distinct"] = int(counted[2 + 2 * i])
        if kind in ("text", "boolean") and text_columns < MAX_TOP_COLUMNS and top_values:
            text_columns += 1
            top = con.execute(
                f"SELECT {_quoted(name)}::VARCHAR AS v, count(*) AS n FROM {sample} "
                f"WHERE {_quoted(name)} IS NOT NULL GROUP BY v ORDER BY n DESC, v "
                f"LIMIT {int(top_values)}",
                [path, *args],
            ).fetchall()
            prof["top_values"] = [[str(v), int(n)] for v, n in top]
        profiles.append(prof)
    out: dict[str, Any] = {
        "rows": int(rows),
        "columns": len(columns),
        "column_profiles": profiles,
        "rows_profiled": profiled,
        "sampled": profiled < int(rows),
    }
    kinds = {p["type"] for p in profiles}
    if formats and formats[0] and "date" in kinds:
        out["date_format"] = formats[0]
    if formats and formats[1] and "datetime" in kinds:
        out["timestamp_format"] = formats[1]
    return out


def _typed(value: Any, kind: str) -> Any:
    """SUMMARIZE gives min and max as text; numbers back as numbers."""
    if value is None or kind not in ("integer", "number"):
        return value
    try:
        return int(value) if kind == "integer" else float(value)
    except (TypeError, ValueError):
        return value


def _with_duckdb(
    path: str,
    dialect: Dialect,
    encoding: str,
    max_rows: int,
    top_values: int,
    warnings: list[str],
    out: dict[str, Any],
) -> bool:
    """Profile with DuckDB into ``out``; False where it is missing or cannot read it."""
    try:
        import duckdb
    except ImportError:
        warnings.append("duckdb is not installed: pip install 'xtract[tabular]'")
        return False
    try:
        out.update(profile_duckdb(path, dialect, encoding, max_rows, top_values, warnings))
    except duckdb.Error as exc:
        warnings.append(f"DuckDB could not read it ({str(exc).splitlines()[0][:200]})")
        return False
    return True


@extractor(
    "tabular",
    reads_name="extension",  # .tsv/.tab names the delimiter when the sniffer cannot
    kinds=["tabular"],
    extensions=["csv", "tsv", "tab", "psv", "dat"],
    mimetypes=["text/csv", "text/tab-separated-values"],
    version="3.0",
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
    """Profile a delimited text file: dialect (``_sniff``: delimiter, comment lines,
    header, preamble), the true row count, column types (dates and datetimes too) and
    statistics over the first ``max_rows`` rows (``sampled`` says when that is not all).
    A text that is not a table is an error of kind ``not_a_table``, saying why."""
    warnings: list[str] = []
    with open(path, "rb") as f:
        head = f.read(min(sample_bytes, 1 << 20))
        more = bool(f.read(1))
    if not head.strip():
        return {"rows": 0, "columns": 0, "warnings": ["the file is empty"]}
    if b"\x00" in head:
        raise NotATable("binary data (NUL bytes), not delimited text")
    text, more_warnings = decode_text(head)
    warnings += more_warnings
    encoding = "latin-1" if more_warnings else "utf-8"
    if more and b"\n" not in head:  # one line longer than the sample: its start only
        dialect = sniff(text, os.path.splitext(path)[1])
        warnings.append(f"the first line is longer than {len(head)} bytes; profiled its start")
        names = fields(text.splitlines()[dialect.skip], dialect.delimiter) if dialect.header else []
        return {
            "reader": "stdlib",
            "delimiter": dialect.delimiter,
            "header": dialect.header,
            "rows": 0 if dialect.header else 1,
            "columns": dialect.columns,
            "column_names": names[:100],
            "sampled": True,
            "warnings": warnings,
        }
    dialect = sniff(text, os.path.splitext(path)[1], complete=not more)
    out: dict[str, Any] = {
        "reader": "duckdb",
        "delimiter": "whitespace" if dialect.delimiter == WHITESPACE else dialect.delimiter,
        "quote": '"',
        "comment": dialect.comment,
        "header": dialect.header,
        "preamble_lines": len(dialect.preamble),
        "preamble": list(dialect.preamble),
        "comments": list(dialect.comments),
    }
    read = dialect.delimiter != WHITESPACE and _with_duckdb(
        path, dialect, encoding, max_rows, top_values, warnings, out
    )
    if not read:
        out.update(profile_stdlib(path, dialect, encoding, max_rows, top_values))
        out["reader"] = "stdlib"
    if warnings:
        out["warnings"] = warnings
    return out
