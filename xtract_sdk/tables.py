"""Analysis-ready rows: how an item becomes a row of a Parquet file with a fixed, typed
schema, and a JSONL line that DuckDB's ``read_json_auto`` and pandas load as they are.

Parquet: typed columns for the file (``size`` int64, ``mtime`` a UTC timestamp, ...),
one struct column per built-in extractor holding its summary fields, typed
(:data:`FIELDS`), ``errors`` as a list of structs, and ``metadata_json``: only what
the typed columns do not hold (the remaining fields, plug-ins' metadata), as JSON
text. Every part of every export has the same schema, so
``SELECT * FROM 'export/*.parquet'`` works with no options.

JSONL keeps each item's nested ``metadata``, with ``mtime`` as an ISO 8601 timestamp
and keys made unique regardless of case (DuckDB's struct fields are case-insensitive:
``Value`` beside ``value`` in EXIF or HDF5 attributes is a hard error there); a later
key that clashes becomes ``key~2``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

# the summary fields of the built-in extractors, typed; everything else is leftovers
FIELDS: dict[str, dict[str, str]] = {
    "filetype": {
        "mimetype": "string",
        "description": "string",
        "detected_by": "string",
        "reason": "string",
        "size": "int64",
        "sha256": "string",
        "unknown": "bool",
    },
    "tabular": {
        "reader": "string",
        "delimiter": "string",
        "header": "bool",
        "comment": "string",
        "preamble_lines": "int64",
        "rows": "int64",
        "columns": "int64",
        "date_format": "string",
    },
    "keyword": {
        "source": "string",
        "language": "string",
        "word_count": "int64",
        "keywords": "list<string>",
    },
    "images": {
        "format": "string",
        "width": "int64",
        "height": "int64",
        "mode": "string",
        "frames": "int64",
    },
    "jsonxml": {
        "format": "string",
        "depth": "int64",
        "root_type": "string",
        "root": "string",
        "elements": "int64",
        "length": "int64",
    },
    "pdf": {"pages": "int64", "encrypted": "bool"},
    "python": {
        "lines": "int64",
        "comment_lines": "int64",
        "min_python": "string",
        "imports": "list<string>",
    },
    "c_code": {"lines": "int64", "comments": "int64", "includes": "list<string>"},
    "compressed": {
        "method": "string",
        "inner_name": "string",
        "inner_mimetype": "string",
        "inner_size": "int64",
        "ratio": "double",
    },
    "archive": {
        "format": "string",
        "member_count": "int64",
        "files": "int64",
        "total_size": "int64",
    },
    "html": {
        "title": "string",
        "language": "string",
        "links": "int64",
        "images": "int64",
        "word_count": "int64",
        "keywords": "list<string>",
    },
    "markdown": {
        "title": "string",
        "links": "int64",
        "code_blocks": "int64",
        "word_count": "int64",
    },
    "svg": {"width": "double", "height": "double", "elements": "int64", "title": "string"},
}
BASE = {
    "crawl_id": "string",
    "family_id": "string",
    "path": "string",
    "size": "int64",
    "extension": "string",
    "mtime": "timestamp",
    "mimetype": "string",
    "unknown": "bool",
}


def _arrow(kind: str) -> Any:
    import pyarrow as pa

    return {
        "string": pa.string(),
        "int64": pa.int64(),
        "double": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "list<string>": pa.list_(pa.string()),
        "list<int64>": pa.list_(pa.int64()),
        "list<double>": pa.list_(pa.float64()),
    }[kind]


Fields = dict[str, dict[str, str]]  # extractor -> its typed summary fields


def schema(fields: Fields | None = None) -> Any:
    """The one Parquet schema every export part has (a struct per extractor of
    ``fields``, :data:`FIELDS` by default; the service adds the fields extractors
    declare, ``@extractor(fields=...)``)."""
    import pyarrow as pa

    table = FIELDS if fields is None else fields
    fields_out = [pa.field(name, _arrow(kind)) for name, kind in BASE.items()]
    for extractor, typed in table.items():
        inner = pa.struct([pa.field(k, _arrow(t)) for k, t in typed.items()])
        fields_out.append(pa.field(extractor, inner))
    error = pa.struct(
        [
            pa.field("extractor", pa.string()),
            pa.field("error", pa.string()),
            pa.field("message", pa.string()),
        ]
    )
    fields_out += [pa.field("errors", pa.list_(error)), pa.field("metadata_json", pa.string())]
    return pa.schema(fields_out)


def _value(value: Any, kind: str) -> Any:
    """``value`` in the column's type, or None when it is not of that kind."""
    if value is None:
        return None
    try:
        if kind == "string":
            return value if isinstance(value, str) else json.dumps(value, default=str)
        if kind == "int64":
            return (
                int(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else None
            )
        if kind == "double":
            return (
                float(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else None
            )
        if kind == "bool":
            return value if isinstance(value, bool) else None
        if kind == "timestamp":
            return datetime.fromtimestamp(float(value), UTC)
        if kind == "list<string>":
            if not isinstance(value, list):
                return None
            # keywords are [keyword, score] pairs: the keyword is what one searches by
            return [str(v[0]) if isinstance(v, list) and v else str(v) for v in value]
        if kind in ("list<int64>", "list<double>"):
            if not isinstance(value, list):
                return None
            inner = kind[5:-1]
            return [_value(v, inner) for v in value]
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return None


def parquet_row(item: dict[str, Any], fields: Fields | None = None) -> dict[str, Any]:
    """One item as a row of :func:`schema` (of ``fields``)."""
    table = FIELDS if fields is None else fields
    row: dict[str, Any] = {name: _value(item.get(name), kind) for name, kind in BASE.items()}
    raw = item.get("metadata")
    metadata: dict[str, Any] = raw if isinstance(raw, dict) else {}
    leftovers: dict[str, Any] = {}
    for extractor, md in metadata.items():
        typed = table.get(extractor)
        if typed is None or not isinstance(md, dict):
            leftovers[extractor] = md
            continue
        row[extractor] = {k: _value(md.get(k), t) for k, t in typed.items()}
        rest = {k: v for k, v in md.items() if k not in typed}
        if rest:
            leftovers[extractor] = rest
    for extractor in table:
        row.setdefault(extractor, None)
    row["errors"] = _errors(item)
    extra = {k: v for k, v in item.items() if k not in BASE and k not in _ITEM_PARTS}
    if extra:  # fields a transform renamed or added
        leftovers["_item"] = extra
    row["metadata_json"] = _json_text(leftovers) if leftovers else None
    return row


# the types a column's values may all be for pyarrow to take the list as it is
_NONE = type(None)
_PLAIN: dict[str, frozenset[type]] = {
    "string": frozenset({str, _NONE}),
    "int64": frozenset({int, _NONE}),
    "double": frozenset({int, float, _NONE}),
    "bool": frozenset({bool, _NONE}),
}


def _column(values: list[Any], kind: str) -> Any:
    """One column as a pyarrow array: the values as they are when each is already of
    the column's kind (or None), else each through :func:`_value`, the same rule
    :func:`parquet_row` applies."""
    import pyarrow as pa

    plain = _PLAIN.get(kind)
    if plain is not None and set(map(type, values)) <= plain:
        return pa.array(values, _arrow(kind))
    if kind == "timestamp":
        if set(map(type, values)) <= _FLOATS:  # the usual column: in pyarrow at once
            return _timestamps(values)
        micros = []
        for v in values:
            ok = type(v) in (int, float) and -1e11 < v < 1e11  # years 0 to 5138
            micros.append(round(v * 1_000_000) if ok else None)
        return pa.array(micros, pa.int64()).cast(_arrow(kind))
    return pa.array([_value(v, kind) for v in values], _arrow(kind))


_FLOATS = frozenset({float, _NONE})


def _timestamps(values: list[float | None]) -> Any:
    """Seconds (floats or None) as a UTC timestamp column, the rule of the loop in
    :func:`_column` (microseconds rounded half to even, as ``round``; outside the years
    0 to 5138, or not a number: null) in pyarrow's kernels."""
    import pyarrow as pa
    import pyarrow.compute

    pc: Any = pyarrow.compute  # its functions are made at import: no stubs name them
    seconds = pa.array(values, pa.float64())
    inside = pc.and_(pc.greater(seconds, -1e11), pc.less(seconds, 1e11))
    kept = pc.if_else(inside, seconds, None)
    micros = pc.round(pc.multiply(kept, 1_000_000), round_mode="half_to_even")
    return pc.cast(micros, pa.int64()).cast(_arrow("timestamp"))


# One item taken apart for :func:`parquet_table`: (its file fields in :data:`BASE`
# order, ((extractor, its fields in :data:`FIELDS` order), ...), its errors as
# (extractor, error, message) triples, the JSON of what no typed column holds). Plain
# tuples of plain values on purpose: the garbage collector stops tracking those, so a
# part of 100,000 rows waiting in a writer costs its collections nothing.
RowParts = tuple[tuple[Any, ...], tuple[tuple[str, tuple[Any, ...]], ...], tuple[Any, ...], Any]
_BASE_NAMES = tuple(BASE)
_PATH = _BASE_NAMES.index("path")
_ERROR_KEYS = ("extractor", "error", "message")
_NOT_EXTRA = frozenset(BASE) | {"metadata", "errors"}


def row_parts(item: dict[str, Any], fields: Fields | None = None) -> RowParts:
    """``item`` taken apart into the pieces of its Parquet row (see :data:`RowParts`)."""
    table = FIELDS if fields is None else fields
    raw = item.get("metadata")
    leftovers: dict[str, Any] = {}
    typed = []
    for extractor, md in raw.items() if isinstance(raw, dict) else ():
        declared = table.get(extractor)
        if declared is None or not isinstance(md, dict):
            leftovers[extractor] = md
            continue
        typed.append((extractor, tuple(map(md.get, declared))))
        rest = _rest_of(md, declared)
        if rest:
            leftovers[extractor] = {k: v for k, v in md.items() if k in rest}
    extra = _rest_of(item, _NOT_EXTRA)
    if extra:
        leftovers["_item"] = {k: v for k, v in item.items() if k in extra}
    errors = (
        tuple(tuple(e[k] for k in _ERROR_KEYS) for e in _errors(item)) if item.get("errors") else ()
    )
    return (
        tuple(map(item.get, _BASE_NAMES)),
        tuple(typed),
        errors,
        _json_text(leftovers) if leftovers else None,
    )


_REST: dict[tuple[Any, ...], frozenset[Any]] = {}  # (keys, known) -> the keys not known


def _rest_of(value: dict[Any, Any], known: Any) -> frozenset[Any]:
    """The keys of ``value`` not among ``known`` (a dict or set of names). Items of one
    export share a handful of key sets, so the answer is remembered per key tuple."""
    memo = (tuple(value), tuple(known))
    rest = _REST.get(memo)
    if rest is None:
        rest = frozenset(value.keys() - set(known))
        if len(_REST) < 4096:
            _REST[memo] = rest
    return rest


def row_size(parts: RowParts) -> int:
    """About the bytes a row holds: its path and leftovers, and the typed fields
    (short by design) at a fixed allowance."""
    path = parts[0][_PATH]
    return 512 + len(parts[3] or "") + (len(path) if type(path) is str else 0)


def parquet_table(
    items: list[dict[str, Any]] | list[RowParts], fields: Fields | None = None
) -> Any:
    """Many items (or their :func:`row_parts`) as a pyarrow Table of :func:`schema`,
    column by column: the same table as ``pa.Table.from_pylist([parquet_row(i) for i in
    items], schema())``, several times faster (no dict per row; pyarrow converts each
    column in one call). Row parts must have been taken apart with the same ``fields``."""
    import pyarrow as pa

    table = FIELDS if fields is None else fields
    parts = [p if isinstance(p, tuple) else row_parts(p, table) for p in items]
    n = len(parts)
    base_columns = list(zip(*(p[0] for p in parts), strict=True)) or [()] * len(BASE)
    arrays = [
        _column(list(col), kind) for col, kind in zip(base_columns, BASE.values(), strict=True)
    ]
    present: dict[str, list[tuple[int, tuple[Any, ...]]]] = {ex: [] for ex in table}
    for row, p in enumerate(parts):
        for extractor, values in p[1]:
            present[extractor].append((row, values))
    for extractor, declared in table.items():
        # an extractor's struct is built from the rows it has (most have none, or a
        # few), then spread over the table's rows by ``take``: a null where it has none
        struct_fields = [pa.field(k, _arrow(kind)) for k, kind in declared.items()]
        had = present[extractor]
        if not had:
            arrays.append(pa.nulls(n, pa.struct(struct_fields)))
            continue
        columns = [list(c) for c in zip(*(values for _, values in had), strict=True)]
        children = [_column(c, kind) for c, kind in zip(columns, declared.values(), strict=True)]
        struct = pa.StructArray.from_arrays(children, fields=struct_fields)
        if len(had) < n:
            where: list[int | None] = [None] * n
            for i, (row, _) in enumerate(had):
                where[row] = i
            struct = struct.take(pa.array(where, pa.int64()))
        arrays.append(struct)
    sch = schema(table)
    arrays.append(pa.array([p[2] for p in parts], sch.field("errors").type))
    arrays.append(pa.array([p[3] for p in parts], pa.string()))
    return pa.Table.from_arrays(arrays, schema=sch)


_ITEM_PARTS = ("metadata", "errors")


def _errors(item: dict[str, Any]) -> list[dict[str, str | None]]:
    return [
        {
            k: (str(e.get(k)) if e.get(k) is not None else None)
            for k in ("extractor", "error", "message")
        }
        for e in item.get("errors") or []
        if isinstance(e, dict)
    ]


try:  # the service installs orjson; the SDK alone needs only json
    import orjson

    def json_bytes(value: Any) -> bytes:
        """Compact JSON (orjson where installed: the same text, several times faster;
        json for what orjson refuses, integers beyond 64 bits). Non-string keys become
        strings, anything else not JSON its ``str``. The service's one JSON writer for
        records: offload parts, row leftovers, large API answers."""
        try:
            return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
        except (orjson.JSONEncodeError, TypeError):
            return _json_bytes(value)

except ImportError:  # pragma: no cover - the SDK on its own

    def json_bytes(value: Any) -> bytes:
        """Compact JSON."""
        return _json_bytes(value)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False).encode()


def _json_text(value: Any) -> str:
    return json_bytes(value).decode()


_UNIQUE: dict[tuple[Any, ...], bool] = {}  # key tuples seen -> unique regardless of case


def _keys_unique(value: dict[Any, Any]) -> bool:
    """Whether ``value``'s keys are unique regardless of case. Items of one extraction
    share a handful of key sets, so the answer is remembered per key tuple."""
    keys = tuple(value)
    known = _UNIQUE.get(keys)
    if known is None:
        known = len({str(k).lower() for k in keys}) == len(keys)
        if len(_UNIQUE) < 4096:
            _UNIQUE[keys] = known
    return known


def _case_unique(value: dict[Any, Any]) -> dict[Any, Any]:
    """``value`` itself when its keys are unique regardless of case, else a copy whose
    later clashing keys are renamed ``key~2``, ``key~3``, ..."""
    if _keys_unique(value):
        return value
    seen: dict[str, int] = {}
    out: dict[Any, Any] = {}
    for k, v in value.items():
        key = str(k)
        n = seen.get(key.lower(), 0) + 1
        seen[key.lower()] = n
        out[key if n == 1 else f"{key}~{n}"] = v
    return out


def unique_keys(value: Any) -> Any:
    """``value`` with every object's keys unique regardless of case (recursively). An
    object or list that needs no change is returned as it is (no copy): most do."""
    if isinstance(value, dict):
        out = _case_unique(value)
        for k, v in out.items():
            if isinstance(v, _CONTAINERS):
                fixed = unique_keys(v)
                if fixed is not v:
                    out = dict(out) if out is value else out
                    out[k] = fixed
        return out
    if isinstance(value, list):
        result = value
        for i, v in enumerate(value):
            if isinstance(v, dict) or (isinstance(v, list) and v and isinstance(v[0], _CONTAINERS)):
                fixed = unique_keys(v)
                if fixed is not v:
                    result = list(result) if result is value else result
                    result[i] = fixed
        return result
    return value


# built-in extractors whose output keys are all fixed names (no free-form maps): their
# keys cannot clash, so they are not walked
FIXED_KEYS = frozenset(
    {"filetype", "tabular", "keyword", "python", "c_code", "archive", "html", "markdown"}
)


def jsonl_item(item: dict[str, Any]) -> dict[str, Any]:
    """One item as a JSONL object DuckDB and pandas read without options. Whatever
    needs no change is the item's own (the copy is shallow, the metadata copied only
    when a key is renamed): the JSONL writer's cost per file is mostly this."""
    out = dict(_case_unique(item))
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        unique = _case_unique(metadata)
        renamed: dict[str, Any] | None = None
        for name, md in unique.items():
            if name not in FIXED_KEYS and isinstance(md, _CONTAINERS):
                fixed = unique_keys(md)
                if fixed is not md:
                    renamed = dict(unique) if renamed is None else renamed
                    renamed[name] = fixed
        out["metadata"] = unique if renamed is None else renamed
    mtime = out.get("mtime")
    # a number within the years 1 to 9999 (beyond, or NaN: left a number)
    if isinstance(mtime, _NUMBER) and type(mtime) is not bool and _in_years_1_to_9999(mtime):
        out["mtime"] = datetime.fromtimestamp(mtime, UTC).isoformat()
    return out


_NUMBER = (int, float)
_CONTAINERS = (dict, list)


def _in_years_1_to_9999(stamp: float) -> bool:
    return -62_135_596_800 < stamp < 253_402_300_800
