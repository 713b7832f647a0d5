"""Analysis-ready rows: the column-by-column Parquet table is the row-by-row one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyarrow as pa

from xtract_sdk.tables import parquet_row, parquet_table, schema


def _items() -> list[dict[str, Any]]:
    good: dict[str, Any] = {
        "crawl_id": "c",
        "family_id": "f.0",
        "path": "/data/a.csv",
        "size": 10,
        "extension": "csv",
        "mtime": 1_700_000_000.123456,
        "mimetype": "text/csv",
        "unknown": False,
        "metadata": {
            "filetype": {"mimetype": "text/csv", "size": 10, "unknown": False, "x": 1},
            "tabular": {"rows": 3, "columns": 2, "header": True, "column_profiles": [{}]},
            "keyword": {"keywords": [["data", 0.1], ["crawl", 0.2]], "language": "en"},
            "plugin": {"anything": [1, {"b": 2}]},
        },
        "errors": [],
    }
    odd: list[dict[str, Any]] = [
        {"size": "12", "mtime": None},  # a string where a number goes
        {"size": True, "unknown": 1},  # a bool where an int goes, an int where a bool goes
        {"mtime": 1e20},  # beyond any timestamp
        {"mtime": -5.5, "renamed_by_a_transform": "x"},
        {"metadata": {"keyword": {"keywords": "not a list", "language": 5}}},
        {"metadata": {"images": "not a dict", "svg": {"width": 3, "height": 2.5}}},
        {"metadata": None, "errors": [{"extractor": "x", "error": "y", "message": None}, 7]},
        {"metadata": {"compressed": {"ratio": 2, "inner_size": 1.5}}},
    ]
    out = [good]
    for i, change in enumerate(odd):
        item = copy.deepcopy(good)
        item.update(change)
        item["family_id"] = f"f.{i + 1}"
        out.append(item)
    return out


def test_the_column_by_column_table_equals_the_row_by_row_one() -> None:
    items = _items()
    by_rows = pa.Table.from_pylist([parquet_row(i) for i in items], schema=schema())
    by_columns = parquet_table(items)
    assert by_columns.schema == schema()
    for name in by_rows.column_names:
        assert by_columns[name].to_pylist() == by_rows[name].to_pylist(), name
    assert by_columns.equals(by_rows)


def test_real_metadata_documents_make_the_same_table_both_ways(tmp_path: Path) -> None:
    # items from metadata documents an extraction of Debian's files wrote, nobody's
    # hand-made shapes: whatever the extractors put there
    from xtract_extractors import extractor_for, get
    from xtract_extractors.errors import error_kind

    items = []
    files = [p for p in sorted(Path("/usr/share/doc").rglob("*")) if p.is_file()][:150]
    for i, p in enumerate(files):
        name = extractor_for(str(p))
        errors: list[dict[str, str]] = []
        try:
            md = get(name).run([str(p)]) if name else {}
        except Exception as exc:  # in an extraction this is the file's error record
            md, errors = (
                {},
                [{"extractor": str(name), "error": error_kind(exc), "message": str(exc)}],
            )
        items.append(
            {
                "crawl_id": "c",
                "family_id": f"f.{i}",
                "path": str(p),
                "size": p.stat().st_size,
                "extension": p.suffix.lstrip("."),
                "mtime": p.stat().st_mtime,
                "metadata": {name: md} if name and md else {},
                "errors": errors,
            }
        )
    assert len(items) > 100
    by_rows = pa.Table.from_pylist([parquet_row(i) for i in items], schema=schema())
    assert parquet_table(items).equals(by_rows)


def test_jsonl_items_with_keys_that_clash_by_case_read_back_in_duckdb(tmp_path: Path) -> None:
    """Keys equal but for case (EXIF has ``Value`` and ``value``; a plug-in may clash
    at any depth) are renamed ``key~2`` where they clash and nowhere else; the item
    itself is left as it was; DuckDB, which folds case, reads every line."""
    import duckdb

    from xtract_sdk.tables import json_bytes, jsonl_item

    item: dict[str, Any] = {
        "path": "/d/a.jpg",
        "mtime": 1_700_000_000.5,
        "Path": "a rename a transform made",
        "metadata": {
            "images": {"exif": {"Value": 1, "value": 2}, "width": 3},
            "plugin": {"rows": [{"A": 1, "a": 2}], "fine": {"b": 1}},
            "Plugin": {"c": 1},
            "tabular": {"rows": 3},
        },
    }
    untouched = copy.deepcopy(item)
    out = jsonl_item(item)
    assert item == untouched
    assert out["Path~2"] == "a rename a transform made" and "Path" not in out
    md = out["metadata"]
    assert md["images"]["exif"] == {"Value": 1, "value~2": 2}
    assert (
        md["plugin"]["rows"] == [{"A": 1, "a~2": 2}]
        and md["plugin"]["fine"] is (item["metadata"]["plugin"]["fine"])
    )
    assert md["Plugin~2"] == {"c": 1} and md["tabular"] is item["metadata"]["tabular"]
    assert out["mtime"].startswith("2023-11-14T22:13:20.5")
    plain = {"path": "/d/b.csv", "metadata": {"images": {"exif": {"Make": "x"}}}}
    assert jsonl_item(plain)["metadata"] is plain["metadata"]  # nothing renamed: no copy
    lines = tmp_path / "x.jsonl"
    lines.write_bytes(b"\n".join(json_bytes(jsonl_item(i)) for i in (item, plain)) + b"\n")
    con: Any = duckdb.connect()
    got = con.execute(f"SELECT path FROM read_json_auto('{lines}') ORDER BY path").fetchall()
    assert got == [("/d/a.jpg",), ("/d/b.csv",)]


def test_a_column_of_float_seconds_is_rounded_as_python_rounds() -> None:
    """The usual mtime column (floats, None) goes through pyarrow's kernels at once:
    the same microseconds as Python's ``round`` (half to even), nulls where the loop
    has them (outside the years 0 to 5138, NaN, infinities)."""
    import random

    from xtract_sdk.tables import _timestamps

    rng = random.Random(7)
    values: list[float | None] = [rng.uniform(-2e11, 2e11) for _ in range(5000)]
    values += [rng.uniform(0, 2e9) for _ in range(5000)] + [round(rng.uniform(0, 2e9), 6)]
    values += [0.5e-6, 1.5e-6, 2.5e-6, -0.5e-6, 1e11, -1e11, 99_999_999_999.9999]
    values += [float("nan"), float("inf"), float("-inf"), None]
    expected = [
        round(v * 1_000_000) if v is not None and -1e11 < v < 1e11 else None for v in values
    ]
    assert _timestamps(values).cast(pa.int64()).to_pylist() == expected
