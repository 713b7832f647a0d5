"""The ``tabular`` extractor's fallback reader, in the standard library only: used when
DuckDB is not installed or its sniffer gives up. Sniffs the delimiter, header and any
preamble from a bounded sample, counts rows by streaming, and profiles each column
(type, numeric min/max/mean, top text values) from the sampled rows."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from typing import Any

from ._common import decode_text

_DELIMITERS = ",\t;|"


def _guess_delimiter(lines: list[str]) -> str | None:
    """The delimiter that splits the most lines into the same number of fields.
    (csv.Sniffer is right as often here and an order of magnitude slower.)"""
    best, best_score = None, (0, 0)
    for d in _DELIMITERS:
        counts = Counter(ln.count(d) for ln in lines if ln.strip())
        if not counts:
            continue
        width, lines_with_width = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        score = (lines_with_width, width)
        if width > 0 and score > best_score:
            best, best_score = d, score
    return best


def _has_header(rows: list[list[str]]) -> bool:
    """A first row that is text over columns whose values are numbers is a header;
    for all-text tables, a first row whose values never recur below is one."""
    if len(rows) < 2:
        return False
    first, rest = rows[0], rows[1:21]
    votes = 0
    for i, name in enumerate(first):
        below = [r[i] for r in rest if i < len(r)]
        if not below:
            continue
        kind = _column_type(below)
        if kind in ("integer", "number"):
            votes += 1 if _column_type([name]) not in ("integer", "number") else -1
        elif name in below:
            votes -= 1
    if votes == 0 and all(_column_type([v]) == "text" for v in first):
        return all(all(v != r[i] for r in rest if i < len(r)) for i, v in enumerate(first))
    return votes > 0


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


def _preamble(lines: list[str], delimiter: str) -> int:
    """Leading lines whose field count differs from the table's."""
    counts = [len(next(csv.reader([ln], delimiter=delimiter), [])) for ln in lines[:200]]
    if not counts:
        return 0
    width = Counter(c for c in counts if c > 1).most_common(1)
    if not width:
        return 0
    target = width[0][0]
    for i, c in enumerate(counts):
        if c == target and all(x == target for x in counts[i : i + 3]):
            return i
    return 0


def _count_lines(f: io.BufferedReader) -> tuple[int, bool]:
    """Newlines in the whole file (streamed), and whether the last line lacks one."""
    n, last = 0, b""
    for chunk in iter(lambda: f.read(1 << 20), b""):
        n += chunk.count(b"\n")
        last = chunk
    return n, bool(last) and not last.endswith(b"\n")


def profile_stdlib(
    path: str, sample_bytes: int = 1 << 20, max_rows: int = 10_000, top_values: int = 5
) -> dict[str, Any]:
    """Profile a delimited text file: delimiter, header, preamble, rows, column types."""
    warnings: list[str] = []
    with open(path, "rb") as f:
        raw = f.read(sample_bytes)
        total_lines, unterminated = _count_lines(f) if len(raw) == sample_bytes else (0, False)
    if not raw.strip():
        return {"rows": 0, "columns": 0, "warnings": ["the file is empty"]}
    if b"\x00" in raw:
        raise ValueError("binary data (NUL bytes), not delimited text")
    sample_lines = raw.count(b"\n")
    if len(raw) < sample_bytes:
        total_lines = sample_lines + (0 if raw.endswith(b"\n") else 1)
    else:
        total_lines += sample_lines + (1 if unterminated else 0)
        cut = raw.rfind(b"\n")
        if cut < 0:
            warnings.append(
                f"the first line is longer than {sample_bytes} bytes; profiled its start"
            )
        else:
            raw = raw[: cut + 1]  # do not profile a line cut in the middle
    text, more = decode_text(raw)
    warnings += more
    lines = text.splitlines()
    guessed = _guess_delimiter(lines[:100])
    if guessed is None:
        guessed = "\t" if path.lower().endswith((".tsv", ".tab")) else ","
        warnings.append(f"no delimiter found; read as one column split on {guessed!r}")
    delimiter = guessed
    skip = _preamble(lines, delimiter)
    body = lines[skip:]
    rows = list(csv.reader(body[: max_rows + 1], delimiter=delimiter))
    has_header = _has_header(rows)
    header = rows[0] if has_header and rows else []
    data = rows[1:] if has_header else rows
    width = max((len(r) for r in data), default=len(header))
    names = [h.strip() or f"column_{i + 1}" for i, h in enumerate(header)]
    names += [f"column_{i + 1}" for i in range(len(names), width)]
    columns = [
        _profile(names[i], [r[i] if i < len(r) else "" for r in data], top_values)
        for i in range(width)
    ]
    data_rows = total_lines - skip - (1 if has_header else 0)
    out: dict[str, Any] = {
        "delimiter": delimiter,
        "header": has_header,
        "preamble_lines": skip,
        "preamble": lines[:skip][:20],
        "rows": max(data_rows, 0),
        "columns": width,
        "column_profiles": columns,
        "rows_profiled": len(data),
        "sampled": len(data) < data_rows,
    }
    if warnings:
        out["warnings"] = warnings
    return out
