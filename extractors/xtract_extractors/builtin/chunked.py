"""``zarr``: chunked array stores (Zarr v2 and v3, N5), from their JSON metadata
files only (standard library; no chunk is read).

The crawl hands a whole store to this extractor as one family (``xtract_service.crawl
.stores``), each file on its own: like every extractor it sees one file, opened
safely, under its own name, never the folder around it. So the family's document is
the store: ``.zarray`` / an array's ``zarr.json`` / N5's ``attributes.json`` give an
array's shape, chunks, data type, compressor or codecs, fill value and order (under
the array's path in the document), ``.zgroup`` and a group's ``zarr.json`` a group,
``.zattrs`` the attributes, and every other file is a chunk, named by its key (by its
name alone, nothing read)."""

from __future__ import annotations

import json
import os
from typing import Any

from ..registry import extractor
from ._common import jsonable

_METADATA = frozenset({".zgroup", ".zarray", ".zattrs", "zarr.json", "attributes.json"})
_N5_KEYS = frozenset({"dimensions", "blockSize", "dataType", "compression"})
MAX_METADATA = 1 << 20


def _read_json(path: str) -> Any:
    with open(path, "rb") as f:
        data = f.read(MAX_METADATA + 1)
    if len(data) > MAX_METADATA:
        raise ValueError(f"{os.path.basename(path)} is larger than {MAX_METADATA} bytes")
    return json.loads(data)


def _v2_array(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "shape": meta.get("shape"),
        "chunks": meta.get("chunks"),
        "dtype": jsonable(meta.get("dtype")),
        "compressor": jsonable(meta.get("compressor")),
        "filters": jsonable(meta.get("filters")),
        "fill_value": jsonable(meta.get("fill_value")),
        "order": meta.get("order"),
    }


def _v3_array(meta: dict[str, Any]) -> dict[str, Any]:
    grid = meta.get("chunk_grid") or {}
    return {
        "shape": meta.get("shape"),
        "chunks": (grid.get("configuration") or {}).get("chunk_shape"),
        "dtype": jsonable(meta.get("data_type")),
        "codecs": jsonable(meta.get("codecs")),
        "fill_value": jsonable(meta.get("fill_value")),
        "dimension_names": meta.get("dimension_names"),
    }


def _n5_array(meta: dict[str, Any]) -> dict[str, Any]:
    dims = meta.get("dimensions")
    blocks = meta.get("blockSize")
    return {  # N5 lists the fastest-varying dimension first: reversed, as Zarr orders
        "shape": list(reversed(dims)) if isinstance(dims, list) else None,
        "chunks": list(reversed(blocks)) if isinstance(blocks, list) else None,
        "dtype": meta.get("dataType"),
        "compressor": jsonable(meta.get("compression")),
    }


@extractor(
    "zarr",
    kinds=["hierarchical"],
    names=[".zarray", ".zgroup", ".zattrs"],  # dot files: no extension to go by
    mimetypes=["application/x-zarr"],
    version="1.0",
    fields={
        "role": "string",
        "format": "string",
        "shape": "list<int64>",
        "chunks": "list<int64>",
        "dtype": "string",
    },
    family="jsonxml",
    reads_name="name",
)
def zarr_store(path: str) -> dict[str, Any]:
    """One file of a Zarr (v2, v3) or N5 store: an array's shape, chunks, dtype and
    codecs, a group, attributes, or a chunk (by name)."""
    name = os.path.basename(path)
    if name not in _METADATA:
        return {"role": "chunk", "key": name}
    meta = _read_json(path)
    if not isinstance(meta, dict):
        raise ValueError(f"{name} holds {type(meta).__name__}, not a JSON object")
    if name == ".zarray":
        return {"role": "array", "format": "Zarr v2", **_v2_array(meta)}
    if name == ".zgroup":
        return {"role": "group", "format": "Zarr v2"}
    if name == ".zattrs":
        return {"role": "attributes", "attributes": jsonable(meta)}
    if name == "zarr.json":
        kind = "array" if meta.get("node_type") == "array" else "group"
        out: dict[str, Any] = {"role": kind, "format": f"Zarr v{meta.get('zarr_format', 3)}"}
        if kind == "array":
            out.update(_v3_array(meta))
        if meta.get("attributes"):
            out["attributes"] = jsonable(meta["attributes"])
        return out
    kind = "array" if "dimensions" in meta else "group"  # N5's attributes.json
    out = {"role": kind, "format": "N5"}
    if kind == "array":
        out.update(_n5_array(meta))
    rest = {k: v for k, v in meta.items() if k not in _N5_KEYS}
    if rest:
        out["attributes"] = jsonable(rest)
    return out
