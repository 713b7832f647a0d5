"""The ``tabular`` extractor's reader in the standard library only: for tables split
on runs of blanks (DuckDB splits on one delimiter), where DuckDB is not installed, or
where it cannot read the file. It reads the dialect ``_sniff`` found, counts every
record by streaming, and profiles each column (type, numeric min/max/mean, exact
distinct count, top text values) from the first ``max_rows`` records."""

from __future__ import annotations

import csv
import io
import itertools
import statistics
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ._sniff import WHITESPACE, Dialect


def _column_type(values: list[str]) -> str:
    seen = [v.strip() for v in values if v.strip() != ""]
    if not seen:
        return "empty"
    for kind, test in (("integer", int), ("number", float)):
        try:
            for v in seen:
                test(v)
            return kind
        except ValueError:
            continue
    if all(v.lower() in ("true", "false", "yes", "no") for v in seen):
        return "boolean"
    return "text"


def _profile(name: str, values: list[str], top_n: int) -> dict[str, Any]:
    kind = _column_type(values)
    col: dict[str, Any] = {"name": name, "type": kind}
    present = [v.strip() for v in values if v.strip() != ""]
    col["missing"] = len(values) - len(present)
    if kind in ("integer", "number"):
        nums = [float(v) for v in present]
        col.update(min=min(nums), max=max(nums), mean=statistics.fmean(nums))
        if kind == "integer":
            col["min"], col["max"] = int(col["min"]), int(col["max"])
    elif kind in ("text", "boolean"):
        col["distinct"] = len(set(present))
        col["top_values"] = [[v, n] for v, n in Counter(present).most_common(top_n)]
    return col


def _records(f: io.TextIOBase, dialect: Dialect) -> Iterator[list[str]]:
    """The file's records after the preamble, comment and blank lines left out."""
    lines: Iterator[str] = itertools.islice(f, dialect.skip, None)
    if dialect.comment:
        lines = (ln for ln in lines if not ln.startswith(dialect.comment))
    lines = (ln for ln in lines if ln.strip())
    if dialect.delimiter == WHITESPACE:
        return (ln.split() for ln in lines)
    return csv.reader(lines, delimiter=dialect.delimiter, quotechar='"')


def profile_stdlib(
    path: str,
    dialect: Dialect,
    encoding: str,
    max_rows: int = 10_000,
    top_values: int = 5,
) -> dict[str, Any]:
    """Profile a delimited text file of a known dialect: every record counted
    (streamed), the first ``max_rows`` profiled."""
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        records = _records(f, dialect)
        header = next(records, []) if dialect.header else []
        data: list[list[str]] = []
        rows = 0
        for record in records:
            rows += 1
            if len(data) < max_rows:
                data.append(record)
    width = max([len(header), *(len(r) for r in data)], default=0)
    names = [h.strip() or f"column_{i + 1}" for i, h in enumerate(header)]
    names += [f"column_{i + 1}" for i in range(len(names), width)]
    columns = [
        _profile(names[i], [r[i] if i < len(r) else "" for r in data], top_values)
        for i in range(width)
    ]
    return {
        "rows": rows,
        "columns": width,
        "column_profiles": columns,
        "rows_profiled": len(data),
        "sampled": len(data) < rows,
    }
