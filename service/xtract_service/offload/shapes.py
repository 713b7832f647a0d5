"""A crawl's metadata in the shapes data repositories take: DataCite 4.5 JSON (the
kernel a DOI is minted with), Croissant 1.1 (MLCommons' JSON-LD for datasets: a
``FileObject`` per file with its checksum, and a ``RecordSet`` per table the ``tabular``
extractor read, its columns typed), RO-Crate 1.3 (``ro-crate-metadata.json``: a
``File`` per file, a ``Dataset`` per folder, the extraction as a ``CreateAction``) and
schema.org ``Dataset`` JSON-LD (what dataset search engines read). Each describes the
crawl as one dataset, built from each file's summary (:func:`summary_of`), so an
export keeps only small records while it reads the documents. Values a crawl cannot
know (the creator, the publisher, the license) are the caller's parameters, else
DataCite's ``:unav`` ("value unavailable").
"""

from __future__ import annotations

import datetime as dt
import os
import urllib.parse
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
    """A Croissant 1.1 JSON-LD document: the files as ``FileObject``s (path, type,
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
        "conformsTo": "http://mlcommons.org/croissant/1.1",
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


RO_CRATE = "https://w3id.org/ro/crate/1.3"
XTRACT_URL = "https://github.com/xtract-project/xtract"  # the instrument's url
MAX_KEYWORDS = 10


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def _uri(prefix: str, path: str, folder: bool = False) -> str:
    """A file's absolute URI: ``prefix`` (``file://``, ``globus://<endpoint>``) and the
    path, percent-encoded; a folder's ends with ``/`` as RO-Crate asks."""
    quoted = urllib.parse.quote(path.rstrip("/") or "/", safe="/")
    base = prefix if prefix.endswith("://") else prefix.rstrip("/")
    return base + quoted + ("/" if folder and not quoted.endswith("/") else "")


def rocrate(files: list[dict[str, Any]], params: dict[str, Any], now: float) -> dict[str, Any]:
    """An RO-Crate 1.3 metadata document for the export folder it is written to (an
    attached crate whose root is ``./``): each file a ``File`` entity named by its
    absolute URI (the files stay where they live), each folder holding some a
    ``Dataset`` listing them (``hasPart``), and the extraction a ``CreateAction`` whose
    instrument is Xtract, whose object is the crawled folder and whose result is the
    crate."""
    from xtract_service import __version__

    prefix = str(params.get("uri_prefix") or "file://")
    paths = [f["path"] for f in files if f.get("path")]
    root = _root(paths)
    folders: dict[str, list[str]] = {}
    graph: list[dict[str, Any]] = []
    for f in files:
        if not f.get("path"):
            continue
        fid = _uri(prefix, f["path"])
        folders.setdefault(os.path.dirname(f["path"]), []).append(fid)
        entity: dict[str, Any] = {
            "@id": fid,
            "@type": "File",
            "name": os.path.basename(f["path"]),
            "contentSize": str(int(f.get("size") or 0)),
            "encodingFormat": f.get("mimetype") or "application/octet-stream",
        }
        if isinstance(f.get("mtime"), int | float):
            entity["dateModified"] = _iso(f["mtime"])
        if f.get("sha256"):
            entity["sha256"] = f["sha256"]
        if f.get("keywords"):
            entity["keywords"] = ", ".join(f["keywords"][:MAX_KEYWORDS])
        graph.append(entity)
    for folder, held in sorted(folders.items()):
        graph.append(
            {
                "@id": _uri(prefix, folder, folder=True),
                "@type": "Dataset",
                "name": os.path.basename(folder) or folder,
                "hasPart": [{"@id": p} for p in held],
            }
        )
    parts = [{"@id": _uri(prefix, d, folder=True)} for d in sorted(folders)]
    crawled = _uri(prefix, root or "/", folder=True)
    if root not in folders:  # the crawled folder itself holds no file directly
        graph.append({"@id": crawled, "@type": "Dataset", "name": root or "/"})
        parts.append({"@id": crawled})
    title = params.get("title") or f"Files under {root or '/'}"
    described: dict[str, Any] = {
        "@id": "./",
        "@type": "Dataset",
        "name": title,
        "description": f"{len(paths)} files under {root or '/'}, their metadata extracted "
        f"by Xtract on {_day(now)}.",
        "datePublished": _iso(now),
        "hasPart": parts,
        "mentions": {"@id": "#extraction"},
    }
    if params.get("license"):
        described["license"] = {"@id": params["license"]}
        graph.append({"@id": params["license"], "@type": "CreativeWork", "name": params["license"]})
    if params.get("creator"):
        described["author"] = {"@id": "#creator"}
        graph.append({"@id": "#creator", "@type": "Person", "name": params["creator"]})
    if params.get("publisher"):
        described["publisher"] = {"@id": "#publisher"}
        graph.append({"@id": "#publisher", "@type": "Organization", "name": params["publisher"]})
    action = {
        "@id": "#extraction",
        "@type": "CreateAction",
        "name": f"Xtract's crawl and metadata extraction of {root or '/'}",
        "instrument": {"@id": XTRACT_URL},
        "object": {"@id": crawled},
        "result": {"@id": "./"},
        "endTime": _iso(now),
    }
    tool = {
        "@id": XTRACT_URL,
        "@type": "SoftwareApplication",
        "name": "Xtract",
        "url": XTRACT_URL,
        "version": __version__,
    }
    descriptor = {
        "@id": "ro-crate-metadata.json",
        "@type": "CreativeWork",
        "conformsTo": {"@id": RO_CRATE},
        "about": {"@id": "./"},
    }
    return {
        "@context": f"{RO_CRATE}/context",
        "@graph": [descriptor, described, action, tool, *graph],
    }


def schemaorg(files: list[dict[str, Any]], params: dict[str, Any], now: float) -> dict[str, Any]:
    """A schema.org ``Dataset`` in JSON-LD, as Google Dataset Search reads one: a
    ``DataDownload`` per file (its URL, type, size, SHA-256), each CSV table's columns as
    ``variableMeasured``, keywords, and the files' modification times as
    ``temporalCoverage``."""
    prefix = str(params.get("uri_prefix") or "file://")
    paths = [f["path"] for f in files if f.get("path")]
    root = _root(paths)
    downloads: list[dict[str, Any]] = []
    variables: list[dict[str, Any]] = []
    for f in files:
        if not f.get("path"):
            continue
        url = _uri(prefix, f["path"])
        item: dict[str, Any] = {
            "@type": "DataDownload",
            "name": os.path.basename(f["path"]),
            "contentUrl": url,
            "encodingFormat": f.get("mimetype") or "application/octet-stream",
            "contentSize": f"{int(f.get('size') or 0)} B",
        }
        if f.get("sha256"):
            item["sha256"] = f["sha256"]
        downloads.append(item)
        for name, kind in f.get("columns") or []:
            if len(variables) < MAX_TABLES * 10:
                variables.append(
                    {
                        "@type": "PropertyValue",
                        "name": str(name),
                        "description": f"a {kind} column of {os.path.basename(f['path'])}",
                    }
                )
    words = Counter(w for f in files for w in f.get("keywords", []))
    mtimes = [f["mtime"] for f in files if isinstance(f.get("mtime"), int | float)]
    doc: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": params.get("title") or f"Files under {root or '/'}",
        "description": f"{len(downloads)} files under {root or '/'}, their metadata extracted "
        f"by Xtract on {_day(now)}.",
        "url": _uri(prefix, root or "/", folder=True),
        "dateModified": _iso(max(mtimes)) if mtimes else _iso(now),
        "distribution": downloads,
    }
    if mtimes:
        doc["temporalCoverage"] = f"{_iso(min(mtimes))}/{_iso(max(mtimes))}"
    if words:
        doc["keywords"] = [w for w, _ in words.most_common(MAX_SUBJECTS)]
    if variables:
        doc["variableMeasured"] = variables
    if params.get("creator"):
        doc["creator"] = {"@type": "Person", "name": params["creator"]}
    if params.get("publisher"):
        doc["publisher"] = {"@type": "Organization", "name": params["publisher"]}
    if params.get("license"):
        doc["license"] = params["license"]
    return doc
