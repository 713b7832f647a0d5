"""A crawl's metadata in the shapes data repositories take: DataCite 4.5 JSON (the
kernel a DOI is minted with) and Croissant (MLCommons' JSON-LD for datasets: a
``FileObject`` per file with its checksum, and a ``RecordSet`` per table the ``tabular``
extractor read, its columns typed). Both describe the crawl as one dataset, built from
each file's summary (:func:`summary_of`), so an export keeps only small records while
it reads the documents. Values a crawl cannot know (the creator, the publisher, the
license) are the caller's parameters, else DataCite's ``:unav`` ("value unavailable").
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from typing import Any

UNAVAILABLE = ":unav"  # DataCite's standard code for a value that cannot be known
MAX_FORMATS = 100
MAX_SUBJECTS = 25
MAX_TABLES = 200  # record sets in one Croissant document
MAX_COLUMNS = 200

# tabular's column types -> schema.org data types (Croissant's dataType)
_CROISSANT_TYPES = {
    "integer": "sc:Integer",
    "number": "sc:Float",
    "boolean": "sc:Boolean",
    "date": "sc:Date",
    "datetime": "sc:DateTime",
    "time": "sc:Text",
    "text": "sc:Text",
    "empty": "sc:Text",
}


def summary_of(item: dict[str, Any]) -> dict[str, Any]:
    """What the shapes need of one file's item (path, size, mtime, type, checksum, a
    table's columns, keywords)."""
    md = item.get("metadata") or {}
    filetype = md.get("filetype") or {}
    out: dict[str, Any] = {
        "path": item.get("path"),
        "size": item.get("size") or 0,
        "mtime": item.get("mtime"),
        "mimetype": item.get("mimetype") or filetype.get("mimetype"),
        "sha256": filetype.get("sha256"),
    }
    table = md.get("tabular") or {}
    if table.get("column_profiles") and table.get("header"):
        out["columns"] = [
            (c.get("name"), c.get("type")) for c in table["column_profiles"][:MAX_COLUMNS]
        ]
    words = [
        k[0] if isinstance(k, list) else k for k in (md.get("keyword") or {}).get("keywords", [])
    ]
    if words:
        out["keywords"] = [str(w) for w in words[:10]]
    return out


def _root(paths: list[str]) -> str:
    return os.path.commonpath(paths) if paths else ""


def _day(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()


def datacite(files: list[dict[str, Any]], params: dict[str, Any], now: float) -> dict[str, Any]:
    """A DataCite 4.5 JSON record of the files as one dataset."""
    paths = [f["path"] for f in files if f.get("path")]
    root = _root(paths)
    total = sum(int(f.get("size") or 0) for f in files)
    formats = sorted({f["mimetype"] for f in files if f.get("mimetype")})[:MAX_FORMATS]
    words = Counter(w for f in files for w in f.get("keywords", []))
    mtimes = [f["mtime"] for f in files if isinstance(f.get("mtime"), int | float)]
    record: dict[str, Any] = {
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Research data"},
        "creators": [{"name": params.get("creator") or UNAVAILABLE}],
        "titles": [{"title": params.get("title") or f"Files under {root or '/'}"}],
        "publisher": {"name": params.get("publisher") or UNAVAILABLE},
        "publicationYear": str(dt.datetime.fromtimestamp(now, dt.UTC).year),
        "sizes": [f"{len(files)} files", f"{total} bytes"],
        "formats": formats,
        "descriptions": [
            {
                "description": f"{len(files)} files ({total} bytes) under {root or '/'}, "
                f"their metadata extracted by Xtract on {_day(now)}.",
                "descriptionType": "TechnicalInfo",
            }
        ],
        "schemaVersion": "http://datacite.org/schema/kernel-4",
    }
    if mtimes:
        record["dates"] = [
            {
                "date": f"{_day(min(mtimes))}/{_day(max(mtimes))}",
                "dateType": "Other",
                "dateInformation": "the files' modification times",
            }
        ]
    if words:
        record["subjects"] = [{"subject": w} for w, _ in words.most_common(MAX_SUBJECTS)]
    if params.get("doi"):
        record["doi"] = params["doi"]
    if params.get("license"):
        record["rightsList"] = [{"rightsUri": params["license"]}]
    return record


# the standard Croissant @context (MLCommons' example datasets)
CROISSANT_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def croissant(files: list[dict[str, Any]], params: dict[str, Any], now: float) -> dict[str, Any]:
    """A Croissant 1.0 JSON-LD document: the files as ``FileObject``s (path, type,
    size, SHA-256), and a ``RecordSet`` per table with a header row, its columns
    typed as ``tabular`` found them."""
    paths = [f["path"] for f in files if f.get("path")]
    root = _root(paths)
    objects = []
    records: list[dict[str, Any]] = []
    for i, f in enumerate(files):
        if not f.get("path"):
            continue
        oid = f"file-{i}"
        obj: dict[str, Any] = {
            "@type": "cr:FileObject",
            "@id": oid,
            "name": os.path.relpath(f["path"], root) if root else f["path"],
            "contentUrl": f["path"],
            "encodingFormat": f.get("mimetype") or "application/octet-stream",
            "contentSize": f"{int(f.get('size') or 0)} B",
        }
        if f.get("sha256"):
            obj["sha256"] = f["sha256"]
        objects.append(obj)
        if f.get("columns") and f.get("mimetype") == "text/csv" and len(records) < MAX_TABLES:
            rid = f"table-{i}"
            records.append(
                {
                    "@type": "cr:RecordSet",
                    "@id": rid,
                    "name": obj["name"],
                    "field": [
                        {
                            "@type": "cr:Field",
                            "@id": f"{rid}/{j}",
                            "name": str(name),
                            "dataType": _CROISSANT_TYPES.get(str(kind), "sc:Text"),
                            "source": {
                                "fileObject": {"@id": oid},
                                "extract": {"column": str(name)},
                            },
                        }
                        for j, (name, kind) in enumerate(f["columns"])
                    ],
                }
            )
    doc: dict[str, Any] = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": params.get("title") or f"Files under {root or '/'}",
        "description": f"{len(objects)} files under {root or '/'}, their metadata extracted by "
        f"Xtract on {_day(now)}.",
        "url": params.get("url") or f"file://{root or '/'}",
        "datePublished": _day(now),
        "version": "1.0.0",
        "distribution": objects,
    }
    if params.get("creator"):
        doc["creator"] = {"@type": "sc:Person", "name": params["creator"]}
    if params.get("license"):
        doc["license"] = params["license"]
    if records:
        doc["recordSet"] = records
    return doc
