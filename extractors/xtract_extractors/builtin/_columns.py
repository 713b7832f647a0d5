"""Column profiles of typed values (a spreadsheet's cells, a statistics package's
variables): type, missing, min/max/mean, exact distinct count and top values, in the
words ``tabular`` uses for a CSV's columns."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any


def kind_of(value: Any) -> str:
    """``integer``, ``number``, ``boolean``, ``datetime``, ``date``, ``time``, ``text``
    or ``empty`` (None and blank text)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "empty"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time | dt.timedelta):
        return "time"
    return "text"


# the kind a column of several kinds of values takes (any other mix is text)
_WIDER = {
    frozenset({"integer", "number"}): "number",
    frozenset({"date", "datetime"}): "datetime",
}


def column_kind(kinds: set[str]) -> str:
    kinds = kinds - {"empty"}
    if not kinds:
        return "empty"
    if len(kinds) == 1:
        return next(iter(kinds))
    return _WIDER.get(frozenset(kinds), "text")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def profile(name: str, values: Sequence[Any], top_n: int) -> dict[str, Any]:
    """One column's profile from its values (cells past a row's end are None)."""
    kinds = [kind_of(v) for v in values]
    kind = column_kind(set(kinds))
    present = [v for v, k in zip(values, kinds, strict=True) if k != "empty"]
    col: dict[str, Any] = {"name": name, "type": kind, "missing": len(values) - len(present)}
    if kind in ("integer", "number") and present:
        nums = [float(v) for v in present]
        col.update(min=_plain(min(nums)), max=_plain(max(nums)))
        mean = statistics.fmean(nums)
        col["mean"] = mean if math.isfinite(mean) else str(mean)
    elif kind in ("date", "datetime", "time") and present:
        try:
            col.update(min=_plain(min(present)), max=_plain(max(present)))
        except TypeError:  # a date beside a datetime: compare as text
            col.update(min=min(map(_plain, present)), max=max(map(_plain, present)))
    elif kind in ("text", "boolean"):
        shown = [str(v) if kind == "text" else v for v in present]
        col["distinct"] = len(set(shown))
        col["top_values"] = [[v, n] for v, n in Counter(shown).most_common(top_n)]
    return col


def has_header(rows: Sequence[Sequence[Any]]) -> bool:
    """Whether a table's first row names its columns: every cell of it is non-blank
    text and no name repeats (the rule readxl and pandas follow by default, stated)."""
    if not rows or not rows[0]:
        return False
    first = rows[0]
    if not all(isinstance(v, str) and v.strip() for v in first):
        return False
    return len({str(v).strip() for v in first}) == len(first)
