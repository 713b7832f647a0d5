"""Research data formats read from their headers and footers, never their payload:

- ``fits`` (astropy.io.fits, lazily, memory-mapped): every HDU's type, name, shape and
  data type from its header, the cards that say what was observed (telescope,
  instrument, object, dates, exposure, world coordinates), table columns.
- ``columnar`` (pyarrow): Parquet (schema, rows, row groups, compression, writer,
  key-value metadata), Arrow IPC/Feather v2 (schema, record batches, rows) and ORC
  (schema, rows, stripes, compression).
- ``statistics`` (pyreadstat, ``metadataonly``): SPSS ``.sav``/``.zsav``/``.por``,
  Stata ``.dta``, SAS ``.sas7bdat``/``.xpt``: variables with their labels, types and
  value labels, rows, the file's label and encoding.
- ``matlab`` (scipy.io): a MAT-file v4/v5's variables (name, shape, class) from
  ``whosmat``, its header text; v7.3 files are HDF5 and also read by ``hdf5``.
"""

from __future__ import annotations

import warnings as pywarnings
from typing import Any

from ..registry import extractor, param
from ._common import jsonable, need

# the cards kept from each HDU's header (all of them are counted)
_FITS_CARDS = (
    "TELESCOP",
    "INSTRUME",
    "OBSERVER",
    "OBJECT",
    "DATE-OBS",
    "DATE-END",
    "MJD-OBS",
    "DATE",
    "EXPTIME",
    "FILTER",
    "BUNIT",
    "ORIGIN",
    "EQUINOX",
    "RADESYS",
    "RA",
    "DEC",
    "EXTNAME",
    "EXTVER",
)


def _fits_hdu(hdu: Any, max_columns: int) -> dict[str, Any]:
    header = hdu.header
    naxis = int(header.get("NAXIS", 0))
    out: dict[str, Any] = {
        "type": type(hdu).__name__,
        "name": hdu.name,
        "shape": [int(header.get(f"NAXIS{i}", 0)) for i in range(naxis, 0, -1)],
        "bitpix": header.get("BITPIX"),
        "cards": len(header),
    }
    if header.get("GROUPS") is True and naxis and header.get("NAXIS1") == 0:
        # random groups: GCOUNT groups of an array of NAXIS2.. and PCOUNT parameters
        out["shape"] = out["shape"][:-1]
        out["groups"] = int(header.get("GCOUNT", 0))
        out["parameters"] = int(header.get("PCOUNT", 0))
    kept = {k: jsonable(header[k]) for k in _FITS_CARDS if k in header}
    if kept:
        out["header"] = kept
    wcs = sorted({k for k in header if k.startswith(("CTYPE", "CUNIT"))})
    if wcs:
        out["wcs"] = {k: jsonable(header[k]) for k in wcs[:20]}
    if hasattr(hdu, "columns") and "XTENSION" in header and "TABLE" in str(header["XTENSION"]):
        out["rows"] = int(header.get("NAXIS2", 0))
        out["columns"] = [
            {
                k: v
                for k, v in {"name": c.name, "format": str(c.format), "unit": c.unit}.items()
                if v
            }
            for c in hdu.columns[:max_columns]
        ]
    return out


@extractor(
    "fits",
    kinds=["hierarchical"],
    extensions=["fits", "fit", "fts"],
    mimetypes=["image/fits", "application/fits"],
    version="1.0",
    fields={"format": "string", "hdu_count": "int64"},
    family="astro",
)
@param("max_hdus", int, default=200, low=1, high=100_000, desc="HDUs described")
@param("max_columns", int, default=500, high=100_000, desc="table columns listed per HDU")
def fits(path: str, max_hdus: int = 200, max_columns: int = 500) -> dict[str, Any]:
    """Every HDU of a FITS file: type, name, shape, data type, observation cards, world
    coordinates and table columns, from the headers only."""
    astropy_fits = need("astropy.io.fits", "astro")
    hdus: list[dict[str, Any]] = []
    count = 0
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        with astropy_fits.open(path, memmap=True, lazy_load_hdus=True) as hdul:
            for hdu in hdul:  # every header is read (counted), the first max_hdus described
                count += 1
                if len(hdus) < max_hdus:
                    hdus.append(_fits_hdu(hdu, max_columns))
    out: dict[str, Any] = {"format": "FITS", "hdu_count": count, "hdus": hdus}
    notes = list(dict.fromkeys(str(w.message)[:300] for w in caught))[:20]
    if notes:
        out["warnings"] = notes
    return out


# -- Parquet, Arrow, ORC -------------------------------------------------------------

MAX_KV = 64 << 10  # key-value metadata kept per file (pandas' schema JSON can be long)


def _schema(schema: Any, max_columns: int) -> list[dict[str, Any]]:
    return [
        {"name": f.name, "type": str(f.type), "nullable": f.nullable}
        for f in list(schema)[:max_columns]
    ]


def _key_values(metadata: dict[bytes, bytes] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    used = 0
    for k, v in (metadata or {}).items():
        if k == b"ARROW:schema":  # pyarrow's own copy of the schema listed beside
            continue
        key, value = k.decode("utf-8", "replace"), v.decode("utf-8", "replace")
        if used + len(key) + len(value) > MAX_KV:
            out[key] = value[: max(0, MAX_KV - used - len(key))] + "..."
            break
        out[key] = value
        used += len(key) + len(value)
    return out


def _parquet(path: str, max_columns: int) -> dict[str, Any]:
    pq = need("pyarrow.parquet", "columnar")
    with pq.ParquetFile(path) as f:
        md = f.metadata
        first = md.row_group(0) if md.num_row_groups else None
        return {
            "format": "Parquet",
            "rows": md.num_rows,
            "row_groups": md.num_row_groups,
            "columns": md.num_columns,
            "schema": _schema(f.schema_arrow, max_columns),
            "compression": sorted({first.column(i).compression for i in range(first.num_columns)})
            if first is not None
            else [],
            "created_by": md.created_by,
            "format_version": md.format_version,
            "key_value_metadata": _key_values(md.metadata),
        }


def _arrow(path: str, max_columns: int) -> dict[str, Any]:
    pa = need("pyarrow", "columnar")
    with pa.memory_map(path) as source:
        reader = pa.ipc.open_file(source)
        rows = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
        return {
            "format": "Arrow IPC",
            "rows": rows,
            "record_batches": reader.num_record_batches,
            "columns": len(reader.schema),
            "schema": _schema(reader.schema, max_columns),
            "key_value_metadata": _key_values(reader.schema.metadata),
        }


def _orc(path: str, max_columns: int) -> dict[str, Any]:
    orc = need("pyarrow.orc", "columnar")
    f = orc.ORCFile(path)
    return {
        "format": "ORC",
        "rows": f.nrows,
        "stripes": f.nstripes,
        "columns": len(f.schema),
        "schema": _schema(f.schema, max_columns),
        "compression": [f.compression],  # one codec a file, listed as Parquet's are
        "writer": f.writer,
        "software_version": f.software_version,
        "key_value_metadata": _key_values(f.metadata),
    }


def _columnar_format(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(6)
        f.seek(-4, 2)
        tail = f.read(4)
    if head[:4] == b"PAR1" and tail == b"PAR1":
        return "parquet"
    if head == b"ARROW1":
        return "arrow"
    if head[:3] == b"ORC":
        return "orc"
    if head[:4] == b"FEA1":
        raise ValueError("a Feather v1 file (pre-2017): not read; rewrite it as Feather v2")
    raise ValueError("neither Parquet, Arrow IPC nor ORC (no magic bytes)")


@extractor(
    "columnar",
    kinds=["tabular"],
    extensions=["parquet", "pq", "feather", "arrow", "ipc", "orc"],
    mimetypes=[
        "application/vnd.apache.parquet",
        "application/vnd.apache.arrow.file",
        "application/vnd.apache.orc",
    ],
    version="1.0",
    fields={
        "format": "string",
        "rows": "int64",
        "columns": "int64",
        "row_groups": "int64",
        "stripes": "int64",
        "created_by": "string",
    },
    family="columnar",
)
@param("max_columns", int, default=1000, low=1, high=1_000_000, desc="schema fields listed")
def columnar(path: str, max_columns: int = 1000) -> dict[str, Any]:
    """Schema, rows, row groups or stripes, compression, writer and key-value metadata
    of a Parquet, Arrow IPC (Feather v2) or ORC file, from its footer."""
    fmt = _columnar_format(path)
    return {"parquet": _parquet, "arrow": _arrow, "orc": _orc}[fmt](path, max_columns)


# -- SPSS, Stata, SAS ----------------------------------------------------------------


def _readstat_reader(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(80)
    if head[:4] in (b"$FL2", b"$FL3"):
        return "read_sav"
    if head[:1] in (b"<",) and b"stata_dta" in head:
        return "read_dta"
    if head[:1] in (
        b"\x66",
        b"\x6e",
        b"\x6f",
        b"\x70",
        b"\x71",
        b"\x72",
        b"\x73",
        b"\x76",
        b"\x77",
    ):
        return "read_dta"  # Stata 7 to 13's format byte (102..119)
    if head.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD") or head.startswith(
        b"HEADER RECORD*******LIBV8   HEADER RECORD"
    ):
        return "read_xport"
    if head[32:36] == b"\x33\x22\x00\x32" or head[12:16] == b"\xc2\xea\x81\x60":
        return "read_sas7bdat"
    if b"SPSS PORT FILE" in head or (head[:40].strip(b"\r\n ").isascii() and path.endswith(".por")):
        return "read_por"
    raise ValueError("not an SPSS, Stata or SAS file this reader knows (no magic bytes)")


@extractor(
    "statistics",
    kinds=["tabular"],
    extensions=["sav", "zsav", "por", "dta", "sas7bdat", "xpt"],
    mimetypes=[
        "application/x-spss-sav",
        "application/x-stata-dta",
        "application/x-sas-data",
        "application/x-sas-xport",
    ],
    version="1.0",
    fields={
        "format": "string",
        "rows": "int64",
        "columns": "int64",
        "file_label": "string",
        "encoding": "string",
    },
    family="stats",
)
@param("max_variables", int, default=2000, low=1, high=1_000_000, desc="variables listed")
def statistics_file(path: str, max_variables: int = 2000) -> dict[str, Any]:
    """Variables (name, label, type, measure, value labels), rows, label and encoding of
    an SPSS, Stata or SAS data file, from its metadata only (no values read)."""
    with open(path, "rb") as f:
        if f.read(2) == b"SR":
            return _idl(path, max_variables)
    pyreadstat = need("pyreadstat", "stats")
    reader = _readstat_reader(path)
    _, meta = getattr(pyreadstat, reader)(path, metadataonly=True)
    labels = dict(zip(meta.column_names, meta.column_labels or [], strict=False))
    value_sets = meta.variable_to_label or {}
    variables = []
    for name in meta.column_names[:max_variables]:
        var: dict[str, Any] = {
            "name": name,
            "type": meta.readstat_variable_types.get(name),
            "format": meta.original_variable_types.get(name),
        }
        if labels.get(name):
            var["label"] = labels[name]
        measure = (meta.variable_measure or {}).get(name)
        if measure and measure != "unknown":
            var["measure"] = measure
        if name in value_sets:
            var["value_labels"] = jsonable(
                meta.value_labels.get(value_sets[name], {}), max_items=100
            )
        variables.append(var)
    return {
        "format": {"read_sav": "SPSS", "read_por": "SPSS portable", "read_dta": "Stata"}.get(
            reader, "SAS"
        ),
        "rows": meta.number_rows,
        "columns": meta.number_columns,
        "variables": variables,
        "file_label": meta.file_label,
        "encoding": meta.file_encoding,
        "created": jsonable(str(meta.creation_time)) if meta.creation_time else None,
        "modified": jsonable(str(meta.modification_time)) if meta.modification_time else None,
    }


MAX_IDL = 64 << 20  # scipy reads an IDL save file whole: larger ones are not read


def _idl(path: str, max_variables: int) -> dict[str, Any]:
    """An IDL save file (``.sav`` too, starting ``SR``): its variables' names, shapes
    and types (scipy reads the file whole, so it is read only up to MAX_IDL bytes)."""
    import os

    if os.path.getsize(path) > MAX_IDL:
        raise ValueError(f"an IDL save file larger than {MAX_IDL} bytes: not read")
    scipy_io = need("scipy.io", "stats")
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        found = scipy_io.readsav(path, python_dict=True, verbose=False)
    return {
        "format": "IDL save",
        "variables": [
            {
                "name": name,
                "shape": list(getattr(value, "shape", ())),
                "type": str(getattr(value, "dtype", type(value).__name__)),
            }
            for name, value in list(found.items())[:max_variables]
        ],
        "variable_count": len(found),
    }


# -- MATLAB --------------------------------------------------------------------------


@extractor(
    "matlab",
    kinds=["hierarchical"],
    extensions=["mat"],
    mimetypes=["application/x-matlab-data"],
    version="1.0",
    fields={"format": "string", "variable_count": "int64", "header": "string"},
    family="stats",
)
@param("max_variables", int, default=2000, low=1, high=1_000_000, desc="variables listed")
def matlab(path: str, max_variables: int = 2000) -> dict[str, Any]:
    """The variables of a MATLAB MAT-file (name, shape, class) and its header text;
    a v7.3 file (HDF5) is named here and described by ``hdf5``."""
    with open(path, "rb") as f:
        head = f.read(128)
    text = head[:116].decode("latin-1").rstrip("\x00 ")
    if head[124:126] in (b"\x00\x02", b"\x02\x00"):  # version 0x0200: HDF5 inside
        return {"format": "MAT v7.3 (HDF5)", "header": text, "variables": None}
    scipy_io = need("scipy.io", "stats")
    found = scipy_io.whosmat(path)
    version = "v5" if head.startswith(b"MATLAB 5.0") else "v4"
    # MATLAB keeps the functions a file saved in a hidden ``__function_workspace__``
    hidden = [v for v in found if v[0] == "__function_workspace__"]
    found = [v for v in found if v[0] != "__function_workspace__"]
    return {
        "format": f"MAT {version}",
        "header": text if version == "v5" else None,
        # a char array's shape is of its strings: scipy drops the last dimension (each
        # string's length), so a 3x5 char matrix is three strings, shape [3]
        "variables": [
            {"name": name, "shape": list(shape), "class": cls}
            for name, shape, cls in found[:max_variables]
        ],
        "variable_count": len(found),
        "function_workspace": bool(hidden),
    }
