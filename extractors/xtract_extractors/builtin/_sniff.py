"""Is this text a table, and how is it written? The one sniffer ``tabular`` trusts.

DuckDB's own sniffer (``sniff_csv``) was taken at its word before, and on files nobody
here wrote it read ``/usr/share/zoneinfo/zone1970.tab`` with a comma, took its first
data row for the header and made 20 columns out of the country lists inside one field.
This sniffer decides from the lines themselves, and DuckDB then reads the file with
the dialect it was told:

- **comment lines** start with ``#`` (they are neither rows nor the header);
- the **delimiter** is the one of tab, comma, semicolon and pipe (quotes respected),
  or runs of blanks, that splits the most lines into two fields or more, the most of
  them into the same number (rows may be ragged: shorter rows are padded); the
  extension's own (``.tsv``/``.tab``: tab, ``.csv``: comma, ``.psv``: pipe) wins a
  near tie; blanks count only when nearly every line splits alike;
- it is **not a table** when no delimiter splits most lines (prose, one value per line,
  a ten-byte ``binary.dat``): ``NotATable`` says why;
- lines of data before the first line that splits are a **preamble**;
- the first record is a **header** when, column by column, its values do not look like
  the values below them (a word above numbers, a name above codes of one shape); where
  no column says either way, when its values are distinct and none is a number.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass

from ..errors import NotATable

DELIMITERS = ("\t", ",", ";", "|")
WHITESPACE = " "  # runs of spaces and tabs
_BY_EXTENSION = {"tsv": "\t", "tab": "\t", "csv": ",", "psv": "|"}
MIN_AGREEMENT = 0.6  # records of the common width, for a delimiter to count
MAX_LINES = 2000  # records the sniffer looks at
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Dialect:
    delimiter: str  # WHITESPACE for runs of blanks
    comment: str | None
    header: bool
    columns: int  # the width of the widest record
    common: int  # the width most records have
    skip: int  # lines (comments and blanks included) before the first record
    skip_uncommented: int  # the same, comment lines not counted
    preamble: tuple[str, ...]  # the lines of data before it (at most 20 shown)
    comments: tuple[str, ...]  # the comment lines before it (at most 20 shown)
    agreement: float  # share of lines that split into two fields or more


def fields(line: str, delimiter: str) -> list[str]:
    """One line's fields under ``delimiter`` (quotes respected; blanks: runs of them)."""
    if delimiter == WHITESPACE:
        return line.split()
    try:
        return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])
    except csv.Error:  # a field over csv's size limit: not split by this delimiter
        return [line]


def is_number(value: str) -> bool:
    return bool(_NUMBER.match(value.strip()))


def _shape(value: str) -> str:
    """A value's look: letters a, digits 9, other characters kept, runs collapsed."""
    out = re.sub(r"[A-Za-z]+", "a", value.strip())
    out = re.sub(r"\d+", "9", out)
    return out


def _header_votes(first: list[str], rows: list[list[str]]) -> tuple[int, int]:
    """Columns whose values say the first record is a header, and columns that say it
    is data."""
    header = data = 0
    for j, top in enumerate(first):
        below = [r[j].strip() for r in rows[:200] if j < len(r) and r[j].strip()]
        if len(below) < 2:
            continue
        if all(is_number(v) for v in below):
            if is_number(top):
                data += 1
            elif top.strip():
                header += 1
            continue
        shapes = Counter(_shape(v) for v in below)
        shape, n = shapes.most_common(1)[0]
        if n / len(below) >= 0.8:
            if _shape(top) == shape:
                data += 1
            else:
                header += 1
    return header, data


def sniff(text: str, extension: str = "", complete: bool = True) -> Dialect:
    """The dialect of ``text`` (the start of a file: ``complete`` is False when more
    follows, so its last line may be cut). NotATable when it is not delimited records."""
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    comment = "#" if any(ln.startswith("#") for ln in lines[:MAX_LINES]) else None
    records = [
        (i, ln)
        for i, ln in enumerate(lines)
        if ln.strip() and not (comment and ln.startswith(comment))
    ][:MAX_LINES]
    if not records:
        raise NotATable("no lines of data (empty, or only comments)")
    preferred = _BY_EXTENSION.get(extension.lower().lstrip("."))
    scored: list[tuple[float, str, list[int], float, int]] = []
    for delim in (*DELIMITERS, WHITESPACE):
        widths = [len(fields(ln, delim)) for _, ln in records]
        split = sum(1 for w in widths if w >= 2) / len(widths)
        if not split:
            continue
        common = Counter(w for w in widths if w >= 2).most_common(1)[0][0]
        exact = widths.count(common) / len(widths)
        if delim == WHITESPACE and exact < 0.9:  # blanks split prose too
            continue
        bonus = 0.1 if delim == preferred else 0.0
        scored.append((split + exact / 2 + bonus, delim, widths, split, common))
    if not scored:
        raise NotATable("no delimiter splits its lines into fields")
    _, delim, widths, agreement, common = max(scored, key=lambda s: s[0])
    if len(records) == 1 and preferred is None:
        raise NotATable("one line of data, and no name that says it is a table")
    if agreement < MIN_AGREEMENT:
        raise NotATable(
            f"its lines are not records of two fields or more (at best {agreement:.0%} "
            f"of {len(records)} lines split)"
        )
    start = next(k for k, w in enumerate(widths) if w >= 2)
    rows = [fields(ln, delim) for _, ln in records[start:]]
    header_votes, data_votes = _header_votes(rows[0], rows[1:])
    if header_votes or data_votes:
        header = header_votes > data_votes
    else:
        top = [v.strip() for v in rows[0]]
        header = all(top) and len(set(top)) == len(top) and not any(is_number(v) for v in top)
    return Dialect(
        delimiter=delim,
        comment=comment,
        header=header,
        columns=max(widths[start:]),
        common=common,
        skip=records[start][0],
        skip_uncommented=sum(
            1 for ln in lines[: records[start][0]] if not (comment and ln.startswith(comment))
        ),
        preamble=tuple(ln for _, ln in records[:start][:20]),
        comments=tuple(
            ln for ln in lines[: records[start][0]] if comment and ln.startswith(comment)
        )[:20],
        agreement=round(agreement, 3),
    )
