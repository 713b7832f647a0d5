"""Formats: writers that turn items into files, declared like extractors::

    @writer("jsonl", description="one line per file")
    @param("gzip", bool, default=False, desc="compress the parts")
    class JsonlWriter(PartWriter): ...

A writer takes whole families (a family is never split between two parts, so a resumed
offload can restart at a family boundary) and rotates to a new part when a part holds
``max_items`` items or ``max_bytes`` bytes. A part is written to a temporary name,
fsynced, and renamed: a part file that exists under its final name is complete.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import hashlib
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, NotRequired, TypedDict

from xtract_extractors.registry import Param, check_params, declared_params, param
from xtract_extractors.safepath import write_file
from xtract_sdk.tables import (
    RowParts,
    json_bytes,
    jsonl_item,
    parquet_table,
    row_parts,
    row_size,
)
from xtract_service.extraction.index import export_fields
from xtract_service.offload import shapes
from xtract_service.streams import Cursor


class Part(TypedDict):
    """A durably written part: its name, checksum, size and contents, and (until it is
    committed) the reader's position after its last family."""

    name: str
    sha256: str
    bytes: int
    items: int
    families: int
    position: NotRequired[Cursor]


log = logging.getLogger(__name__)
_HASH_APART = 1 << 20  # parts from this size on are checksummed while being written
WRITERS: dict[str, type[PartWriter]] = {}
dumps = json_bytes  # items' JSON: orjson, compact (xtract_sdk.tables.json_bytes)


def writer(name: str, description: str = "") -> Callable[[type[PartWriter]], type[PartWriter]]:
    """Register a writer class under ``name`` (its ``@param``s declare its options)."""

    def register(cls: type[PartWriter]) -> type[PartWriter]:
        cls.format_name = name
        cls.params = declared_params(cls)
        cls.description = description or (cls.__doc__ or "").strip().split("\n")[0]
        WRITERS[name] = cls
        return cls

    return register


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a part is encoded: encoding makes a
    few hundred thousand short-lived lists and tuples, none of them cyclic, and with the
    collector on, each burst of them sets off full collections that walk every object
    the process holds (measured: half the Parquet writer's time on 50,000 items)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def check_format(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Validated parameters of the format ``name``; ValueError names what is wrong."""
    load_plugins()
    if name not in WRITERS:
        raise ValueError(f"unknown format {name!r}; use one of {', '.join(sorted(WRITERS))}")
    checked = check_params(f"format {name!r}", WRITERS[name].params, params)
    WRITERS[name].check_options(checked)
    return checked


def describe_formats() -> list[dict[str, Any]]:
    load_plugins()
    return [
        {
            "name": n,
            "description": w.description,
            "params": [p.describe() for p in w.params],
            "partitionable": w.partitionable,
        }
        for n, w in sorted(WRITERS.items())
    ]


def write_part(
    folder: int,
    name: str,
    data: bytes,
    items: int = 0,
    families: int = 0,
    position: Cursor | None = None,
) -> Part:
    """Write one part durably into the open folder ``folder``; returns its description.
    A large part is checksummed in a thread while it is written and fsynced (both let go
    of the GIL: the checksum costs no time of its own)."""
    if len(data) < _HASH_APART:
        write_file(folder, name, data)
        digest = hashlib.sha256(data).hexdigest()
    else:
        hasher = hashlib.sha256()
        thread = threading.Thread(target=hasher.update, args=(data,), name="xtract-part-sha256")
        thread.start()
        try:
            write_file(folder, name, data)
        finally:
            thread.join()
        digest = hasher.hexdigest()
    part: Part = {
        "name": name,
        "sha256": digest,
        "bytes": len(data),
        "items": items,
        "families": families,
    }
    if position is not None:
        part["position"] = position
    return part


class PartWriter:
    """Collects families' items into numbered parts; subclasses encode a part."""

    format_name = ""
    description = ""
    params: tuple[Param, ...] = ()
    suffix = ".dat"
    name_prefix = "part-"  # the engine sets ``part-KK-`` when partitions share the writing
    partitionable = True  # False: the format writes one document of the whole export

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> None:
        """ValueError for options that are well typed but wrong together (a driver's
        own checks, made when the offload is asked for)."""

    def __init__(self, folder: int, first_part: int = 0, **params: Any) -> None:
        self.folder = folder
        self.options = params
        self.max_items = int(params.get("max_items") or 100_000)
        self.max_bytes = int(params.get("max_bytes") or 256 << 20)
        self.index = first_part
        self.items: list[Any] = []  # what ``prepare`` made of each item
        self.families = 0
        self.size = 0
        self.position = Cursor()  # the reader's position after the last family taken

    def add_family(self, items: list[dict[str, Any]], position: Cursor) -> list[Part]:
        """Take one family's items, read at ``position``; returns the parts this finished,
        durably written, each with the ``position`` after the last family it holds."""
        done: list[Part] = []
        if len(items) == 1:  # most families: one file
            kept, cost = self.prepare(items[0])
            taken = [kept]
        else:
            prepared = [self.prepare(i) for i in items]
            taken = [p for p, _ in prepared]
            cost = sum(c for _, c in prepared)
        full = len(self.items) + len(items) > self.max_items or self.size + cost > self.max_bytes
        if self.items and full:
            done.append(self._finish())
        self.items += taken
        self.families += 1
        self.size += cost
        self.position = position
        return done

    def close(self) -> list[Part]:
        return [self._finish()] if self.items else []

    def _finish(self) -> Part:
        name = f"{self.name_prefix}{self.index:05d}{self.suffix}"
        with collector_paused():
            data = self.encode(self.items)
        part = write_part(self.folder, name, data, len(self.items), self.families, self.position)
        self.index += 1
        self.items, self.families, self.size = [], 0, 0
        return part

    def prepare(self, item: dict[str, Any]) -> tuple[Any, int]:
        """What the part keeps of ``item`` and its cost in bytes (each item is
        serialized once: the cost is measured on what will be written)."""
        return item, len(dumps(item))

    def encode(self, items: list[Any]) -> bytes:
        raise NotImplementedError


@writer("jsonl", "One JSON line per file, optionally gzip-compressed.")
@param("gzip", bool, default=False, desc="compress each part with gzip")
@param("max_items", int, default=100_000, low=1, high=10_000_000, desc="files per part")
@param(
    "max_bytes",
    int,
    default=256 << 20,
    low=1 << 10,
    high=4 << 30,
    desc="uncompressed bytes per part",
)
class JsonlWriter(PartWriter):
    def __init__(self, folder: int, first_part: int = 0, **params: Any) -> None:
        super().__init__(folder, first_part, **params)
        self.suffix = ".jsonl.gz" if params.get("gzip") else ".jsonl"

    def prepare(self, item: dict[str, Any]) -> tuple[Any, int]:
        line = dumps(jsonl_item(item))
        return line, len(line) + 1

    def encode(self, items: list[Any]) -> bytes:
        raw = b"\n".join(items) + b"\n"
        return gzip.compress(raw, mtime=0) if self.options.get("gzip") else raw


@writer(
    "parquet",
    "One row per file, typed: a UTC timestamp for mtime, a struct per extractor, JSON text "
    "only for free-form leftovers; one schema for every part (see xtract_sdk/tables.py).",
)
@param("max_items", int, default=100_000, low=1, high=10_000_000, desc="rows per part")
@param(
    "max_bytes", int, default=256 << 20, low=1 << 10, high=4 << 30, desc="about the bytes per part"
)
@param(
    "compression",
    str,
    default="zstd",
    choices=["zstd", "snappy", "gzip", "brotli", "lz4", "none"],
    desc="parquet compression codec",
)
class ParquetWriter(PartWriter):
    """The built-in extractors' typed fields (``xtract_sdk.tables.FIELDS``) and those
    every installed extractor declares (``@extractor(fields=...)``, plug-ins' too),
    fixed for the whole export: every part has one schema."""

    suffix = ".parquet"

    def __init__(self, folder: int, first_part: int = 0, **params: Any) -> None:
        super().__init__(folder, first_part, **params)
        self.fields = export_fields()

    def prepare(self, item: dict[str, Any]) -> tuple[Any, int]:
        parts = row_parts(item, self.fields)  # taken apart once; columns are built from these
        return parts, row_size(parts)

    def encode(self, items: list[RowParts]) -> bytes:
        import pyarrow.parquet as pq

        table = parquet_table(items, self.fields)  # column by column, not row by row
        buf = io.BytesIO()
        pq.write_table(  # type: ignore[no-untyped-call]
            table, buf, compression=self.options.get("compression") or "zstd"
        )
        return buf.getvalue()


@writer("globus_search", "GMetaList ingest documents for a Globus Search index.")
@param(
    "visible_to", list, default=[], desc="principals allowed to see entries (default: the owner)"
)
@param("subject_prefix", str, default="file://", desc="prefix of each entry's subject")
# Globus Search takes at most 100 entries and 10 MB per ingest document
@param("max_items", int, default=100, low=1, high=100, desc="entries per ingest document")
@param("max_bytes", int, default=9_000_000, low=1 << 10, high=10_000_000, desc="bytes per document")
class SearchWriter(PartWriter):
    suffix = ".json"

    def encode(self, items: list[dict[str, Any]]) -> bytes:
        prefix = self.options.get("subject_prefix", "file://")
        visible = self.options["visible_to"]  # the start of the offload filled it in
        gmeta = [
            {
                "subject": f"{prefix}{i.get('path', i.get('family_id'))}",
                "visible_to": visible,
                "content": i,
            }
            for i in items
        ]
        doc = {"ingest_type": "GMetaList", "ingest_data": {"gmeta": gmeta}}
        return json.dumps(doc, default=str).encode()


@writer("family_json", "One JSON document per family (the published Xtract layout).")
@param("indent", int, default=0, high=8, desc="indent the JSON (0: compact)")
class FamilyJsonWriter(PartWriter):
    """Each family is its own part, ``{family_id}.json``."""

    def add_family(self, items: list[dict[str, Any]], position: Cursor) -> list[Part]:
        if not items:
            return []
        first = items[0]
        doc = {
            "family_id": first.get("family_id"),
            "crawl_id": first.get("crawl_id"),
            "files": items,
        }
        indent = self.options.get("indent") or None
        data = json.dumps(doc, default=str, indent=indent).encode()
        part = write_part(
            self.folder, f"{first.get('family_id')}.json", data, len(items), 1, position
        )
        return [part]

    def close(self) -> list[Part]:
        return []


class DatasetWriter(PartWriter):
    """The whole export as one dataset document (``shapes.py``): each file's summary
    is kept while the documents are read, the document written at the end."""

    shape: Callable[[list[dict[str, Any]], dict[str, Any], float], dict[str, Any]]
    part_name = "dataset.json"
    partitionable = False

    def __init__(self, folder: int, first_part: int = 0, **params: Any) -> None:
        super().__init__(folder, first_part, **params)
        self.max_items = self.max_bytes = 1 << 62  # one part, at the end
        self.summaries: list[dict[str, Any]] = []

    def add_family(self, items: list[dict[str, Any]], position: Cursor) -> list[Part]:
        self.summaries += [shapes.summary_of(i) for i in items]
        self.families += 1
        self.position = position
        return []

    def close(self) -> list[Part]:
        import time

        doc = type(self).shape(self.summaries, self.options, time.time())
        data = json.dumps(doc, indent=1, default=str).encode()
        part = write_part(
            self.folder, self.part_name, data, len(self.summaries), self.families, self.position
        )
        return [part]


_SHAPE_PARAMS = [
    param("title", str, default="", desc="the dataset's title (default: the files' folder)"),
    param("creator", str, default="", desc="who made the data (DataCite: ':unav' if not given)"),
    param("publisher", str, default="", desc="who publishes it (DataCite)"),
    param("license", str, default="", desc="the license's URL"),
]


_URI_PREFIX = param(
    "uri_prefix",
    str,
    default="",
    desc="the files' URI prefix (default: globus://<endpoint> for a Globus crawl, else file://)",
)


def _with_shape_params(cls: type[PartWriter]) -> type[PartWriter]:
    for declare in reversed(_SHAPE_PARAMS):
        cls = declare(cls)
    return cls


@writer("datacite", "One DataCite 4.5 JSON record of the crawl as a dataset (datacite.json).")
@param("doi", str, default="", desc="the DOI, where one is reserved")
@_with_shape_params
class DataCiteWriter(DatasetWriter):
    shape = staticmethod(shapes.datacite)
    part_name = "datacite.json"


@writer(
    "croissant",
    "One Croissant JSON-LD document (croissant.json): a FileObject per file with its "
    "checksum, a RecordSet per CSV table with its columns typed.",
)
@param("url", str, default="", desc="where the dataset lives (default: file:// its folder)")
@_with_shape_params
class CroissantWriter(DatasetWriter):
    shape = staticmethod(shapes.croissant)
    part_name = "croissant.json"


@writer(
    "rocrate",
    "An RO-Crate 1.3 metadata document (ro-crate-metadata.json): a File entity per "
    "file, a Dataset per folder, the extraction as a CreateAction.",
)
@_URI_PREFIX
@_with_shape_params
class RoCrateWriter(DatasetWriter):
    shape = staticmethod(shapes.rocrate)
    part_name = "ro-crate-metadata.json"


@writer(
    "schemaorg",
    "A schema.org Dataset in JSON-LD (schemaorg.json), as dataset search engines read "
    "one: a DataDownload per file, CSV columns as variableMeasured.",
)
@_URI_PREFIX
@_with_shape_params
class SchemaOrgWriter(DatasetWriter):
    shape = staticmethod(shapes.schemaorg)
    part_name = "schemaorg.json"


def open_writer(name: str, folder: int, first_part: int, params: dict[str, Any]) -> PartWriter:
    checked = check_format(name, params)  # first: it loads the plug-ins
    return WRITERS[name](folder, first_part, **checked)


def write_manifest(folder: int, fmt: str, parts: list[Part], extra: dict[str, Any]) -> None:
    """``MANIFEST.sha256`` (``sha256sum -c`` reads it) and ``manifest.json`` beside the
    parts."""
    lines = "".join(f"{p['sha256']}  {p['name']}\n" for p in parts)
    write_part(folder, "MANIFEST.sha256", lines.encode())
    manifest = {
        "format": fmt,
        "parts": parts,
        "items": sum(p["items"] for p in parts),
        "families": sum(p["families"] for p in parts),
        **extra,
    }
    write_part(folder, "manifest.json", json.dumps(manifest, indent=2).encode())


# -- drivers from other packages ---------------------------------------------------------
PLUGIN_ERRORS: dict[str, str] = {}  # entry-point name -> why it did not load
_loaded: list[bool] = []


def load_plugins() -> None:
    """Import every ``xtract.exporters`` entry point, once: a module whose ``@writer``
    classes register export formats and whose ``@destination`` functions (``moves.py``)
    register destinations (typed ``@param``s, listed by ``GET /v1/formats`` and
    ``xtract formats``). One that fails to load is recorded and skipped. Called when a
    driver is first looked up, not on import: a plug-in imports this room's modules."""
    from importlib.metadata import entry_points

    if _loaded:
        return
    _loaded.append(True)
    for ep in entry_points(group="xtract.exporters"):
        try:
            ep.load()
        except Exception as exc:  # a broken plug-in must not stop the service
            PLUGIN_ERRORS[ep.name] = f"{type(exc).__name__}: {exc}"
            log.warning("export driver plug-in %r failed to load: %s", ep.name, exc)
