"""``spreadsheet``: workbooks (XLSX/XLSM with openpyxl in read-only mode, XLS with
xlrd, ODS by streaming its ``content.xml``): every sheet's used range, whether its first
row is a header, per-column types and statistics as ``tabular`` gives for a CSV, the
defined names and the document properties. Formulas are read as their cached values,
never evaluated; macros are never run (an XLSM's ``vbaProject.bin`` is only noted).

A sheet's *used range* is the rows and columns from the first to the last non-empty
cell: an XLSX's stored dimension is not trusted (Excel and other writers leave it
``A1`` or stale, and openpyxl's read-only ``max_row`` repeats it), and formatted empty
cells do not count. ``rows`` counts the used range's rows below the header; the first
``max_rows`` of them are profiled (``sampled`` when there are more), and the first
``max_columns`` columns."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from ..registry import extractor, param
from ._columns import has_header, profile
from ._common import need
from ._packages import odf_properties, ooxml_properties


class _Used:
    """A sheet's used range, found while its rows stream past; the first ``keep`` rows
    (from the first non-empty one) are kept for the profile."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.first_row: int | None = None
        self.last_row = 0
        self.first_col: int | None = None
        self.last_col = 0
        self.kept: list[tuple[int, list[Any]]] = []

    def add(self, index: int, cells: Iterable[tuple[int, Any]]) -> None:
        """Row ``index`` (0-based) and its non-empty cells as ``(column, value)``."""
        row = [(c, v) for c, v in cells if v is not None and not (isinstance(v, str) and not v)]
        if not row:
            return
        if self.first_row is None:
            self.first_row = index
        self.last_row = index
        cols = [c for c, _ in row]
        self.first_col = min(cols) if self.first_col is None else min(self.first_col, *cols)
        self.last_col = max(self.last_col, *cols)
        if index - self.first_row < self.keep:
            self.kept.append((index, row))

    def describe(self, name: str, max_columns: int, top_values: int) -> dict[str, Any]:
        if self.first_row is None or self.first_col is None:
            return {
                "name": name,
                "range": None,
                "rows": 0,
                "columns": 0,
                "header": False,
                "column_profiles": [],
            }
        width = self.last_col - self.first_col + 1
        shown = min(width, max_columns)
        kept = dict(self.kept)
        span = min(self.keep, self.last_row - self.first_row + 1)
        grid: list[list[Any]] = []
        for index in range(self.first_row, self.first_row + span):
            line: list[Any] = [None] * shown
            for c, v in kept.get(index, []):
                if c - self.first_col < shown:
                    line[c - self.first_col] = v
            grid.append(line)
        header = has_header(grid[:1])
        names = [str(v).strip() for v in grid[0]] if header else []
        body = (grid[1:] if header else grid)[: self.keep - 1]  # keep: max_rows + a header
        height = self.last_row - self.first_row + 1 - (1 if header else 0)
        out: dict[str, Any] = {
            "name": name,
            "range": f"{_a1(self.first_row, self.first_col)}:{_a1(self.last_row, self.last_col)}",
            "rows": height,
            "columns": width,
            "header": header,
            "column_profiles": [
                profile(names[i] if header else f"column_{i + 1}", [r[i] for r in body], top_values)
                for i in range(shown)
            ],
            "rows_profiled": len(body),
            "sampled": len(body) < height,
        }
        if shown < width:
            out["columns_profiled"] = shown
        return out


def _a1(row: int, col: int) -> str:
    """``A1`` notation of a 0-based cell."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


# -- XLSX / XLSM ---------------------------------------------------------------------


def _xlsx(path: str, keep: int, max_sheets: int) -> tuple[dict[str, Any], list[tuple[str, _Used]]]:
    openpyxl = need("openpyxl", "spreadsheets")
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        meta: dict[str, Any] = {
            "properties": {},
            "defined_names": [
                {"name": name, "refers_to": str(d.attr_text)[:500]}
                for name, d in list(wb.defined_names.items())[:1000]
            ],
            "sheet_names": list(wb.sheetnames),
        }
        sheets = []
        for ws in wb.worksheets[:max_sheets]:
            used = _Used(keep)
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # the stored dimension is not trusted
                for i, row in enumerate(ws.iter_rows(values_only=True)):
                    used.add(i, enumerate(row))
            meta.setdefault("sheet_states", {})[ws.title] = ws.sheet_state
            sheets.append((ws.title, used))
        for ws in wb.chartsheets[:max_sheets]:
            meta.setdefault("chartsheets", []).append(ws.title)
    finally:
        wb.close()
    with zipfile.ZipFile(path) as z:
        meta["properties"] = ooxml_properties(z)
        meta["macros"] = any(n.lower().endswith("vbaproject.bin") for n in z.namelist())
    return meta, sheets


# -- XLS -----------------------------------------------------------------------------


def _xls(path: str, keep: int, max_sheets: int) -> tuple[dict[str, Any], list[tuple[str, _Used]]]:
    xlrd = need("xlrd", "spreadsheets")
    book = xlrd.open_workbook(path, on_demand=True, formatting_info=False)
    try:

        def value(cell: Any) -> Any:
            t = cell.ctype
            if t in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                return None
            if t == xlrd.XL_CELL_DATE:
                try:
                    return xlrd.xldate_as_datetime(cell.value, book.datemode)
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    return cell.value
            if t == xlrd.XL_CELL_BOOLEAN:
                return bool(cell.value)
            if t == xlrd.XL_CELL_ERROR:
                return xlrd.error_text_from_code.get(cell.value, "#ERROR")
            return cell.value

        meta: dict[str, Any] = {
            "properties": {"last_modified_by": book.user_name} if book.user_name else {},
            "defined_names": [
                {"name": n.name, "builtin": bool(n.builtin)} for n in book.name_obj_list[:1000]
            ],
            "sheet_names": book.sheet_names(),
            "macros": False,
        }
        sheets = []
        for i in range(min(book.nsheets, max_sheets)):
            sh = book.sheet_by_index(i)
            used = _Used(keep)
            for r in range(sh.nrows):
                used.add(r, ((c, value(cell)) for c, cell in enumerate(sh.row(r))))
            meta.setdefault("sheet_states", {})[sh.name] = (
                "visible" if sh.visibility == 0 else "hidden"
            )
            sheets.append((sh.name, used))
            book.unload_sheet(i)
    finally:
        book.release_resources()
    return meta, sheets


# -- ODS -----------------------------------------------------------------------------

_NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
_T = "{" + _NS["table"] + "}"
_O = "{" + _NS["office"] + "}"
_TEXT = "{" + _NS["text"] + "}"
_DURATION = re.compile(r"-?PT?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?")
MAX_REPEAT = 1 << 20  # a sheet's rows (Excel's limit); repeats past it are blank filler


def _ods_value(cell: Any) -> Any:
    kind = cell.get(_O + "value-type")
    if kind is None:
        return None
    if kind in ("float", "percentage", "currency"):
        number = float(cell.get(_O + "value", "nan"))
        return int(number) if number.is_integer() else number
    if kind == "date":
        text = cell.get(_O + "date-value", "")
        return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
    if kind == "time":
        m = _DURATION.fullmatch(cell.get(_O + "time-value", ""))
        if m:
            h, mi, s = (float(x or 0) for x in m.groups())
            return dt.timedelta(hours=h, minutes=mi, seconds=s)
    if kind == "boolean":
        return cell.get(_O + "boolean-value") == "true"
    return "\n".join("".join(p.itertext()) for p in cell.iter(_TEXT + "p"))


def _ods(path: str, keep: int, max_sheets: int) -> tuple[dict[str, Any], list[tuple[str, _Used]]]:
    from defusedxml import ElementTree as SafeET  # no entities, no DTD fetches

    meta: dict[str, Any] = {"properties": {}, "defined_names": [], "sheet_names": []}
    sheets: list[tuple[str, _Used]] = []
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        if "meta.xml" in names:
            meta["properties"] = odf_properties(z.read("meta.xml"))
        meta["macros"] = any(n.startswith("Basic/") for n in names)
        with z.open("content.xml") as f:
            for name, used in _ods_tables(SafeET.iterparse(f, ("start", "end")), keep, meta):
                if len(sheets) < max_sheets:
                    sheets.append((name, used))
    return meta, sheets


def _ods_tables(
    events: Iterator[tuple[str, Any]], keep: int, meta: dict[str, Any]
) -> Iterator[tuple[str, _Used]]:
    used: _Used | None = None
    row = 0
    for event, el in events:
        tag = el.tag
        if event == "start":
            if tag == _T + "table":
                used, row = _Used(keep), 0
                meta["sheet_names"].append(el.get(_T + "name", ""))
            continue
        if tag == _T + "table-row" and used is not None:
            repeat = min(int(el.get(_T + "number-rows-repeated", "1")), MAX_REPEAT)
            cells: list[tuple[int, Any]] = []
            col = 0
            for cell in el:
                if cell.tag not in (_T + "table-cell", _T + "covered-table-cell"):
                    continue
                span = min(int(cell.get(_T + "number-columns-repeated", "1")), 1 << 14)
                value = _ods_value(cell)
                if value is not None and value != "":
                    cells.extend((col + k, value) for k in range(span))
                col += span
            for k in range(repeat if cells else 1):
                used.add(row + k, cells)
            row += repeat
            el.clear()
        elif tag == _T + "table" and used is not None:
            yield meta["sheet_names"][-1], used
            used = None
            el.clear()
        elif tag == _T + "named-range" and len(meta["defined_names"]) < 1000:
            meta["defined_names"].append(
                {"name": el.get(_T + "name"), "refers_to": el.get(_T + "cell-range-address")}
            )


_READERS = {"xlsx": _xlsx, "xlsm": _xlsx, "xls": _xls, "ods": _ods}


def _format(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"  # an OLE2 compound file
    if head.startswith(b"PK"):
        with zipfile.ZipFile(path) as z:
            if "content.xml" in z.namelist():
                return "ods"
            return "xlsm" if any(n.endswith("vbaProject.bin") for n in z.namelist()) else "xlsx"
    raise ValueError("not a spreadsheet: neither an OLE2 nor a zip file")


@extractor(
    "spreadsheet",
    kinds=["tabular"],
    extensions=["xlsx", "xlsm", "xls", "ods"],
    mimetypes=[
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.spreadsheet",
    ],
    version="1.0",
    fields={
        "format": "string",
        "sheet_count": "int64",
        "sheet_names": "list<string>",
        "macros": "bool",
    },
    family="spreadsheets",
)
@param("max_sheets", int, default=50, low=1, high=10_000, desc="sheets described")
@param("max_rows", int, default=10_000, high=1_000_000, desc="rows profiled per sheet")
@param("max_columns", int, default=200, low=1, high=16_384, desc="columns profiled per sheet")
@param("top_values", int, default=5, high=100, desc="most common values listed per text column")
def spreadsheet(
    path: str,
    max_sheets: int = 50,
    max_rows: int = 10_000,
    max_columns: int = 200,
    top_values: int = 5,
) -> dict[str, Any]:
    """Sheets, used ranges, header rows, column types and statistics, defined names and
    document properties of an XLSX, XLSM, XLS or ODS workbook."""
    fmt = _format(path)
    meta, sheets = _READERS[fmt](path, max_rows + 1, max_sheets)
    out: dict[str, Any] = {"format": fmt, **meta, "sheet_count": len(meta["sheet_names"])}
    out["sheets"] = [used.describe(name, max_columns, top_values) for name, used in sheets]
    states = out.pop("sheet_states", {})
    for sheet in out["sheets"]:
        if states.get(sheet["name"], "visible") != "visible":
            sheet["state"] = states[sheet["name"]]
    if len(out["sheet_names"]) > len(sheets):
        out["warnings"] = [f"{len(out['sheet_names'])} sheets; described the first {len(sheets)}"]
    return out
