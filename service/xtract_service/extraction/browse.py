"""Finding files in a crawl's metadata: by path, by type, by the extractor that read
them, and by any field an extractor wrote (``language=en``, ``columns``), a page at a
time. What the dashboard's metadata browser and ``GET /v1/crawls/{id}/metadata/search``
ask.

Files with an error record of some kind are found by ``error``. Every filter is a
case-insensitive substring match (a field without ``=value`` only has
to be there). A request reads at most ``MAX_SCANNED`` documents: its answer's ``next``
continues the scan where it stopped, so a search of a huge crawl is many cheap requests,
never one unbounded one.

>>> matches_field({"tabular": {"columns": [{"name": "Temp"}]}}, "name=temp")
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from xtract_service.extraction.documents import Document
from xtract_service.extraction.results import ExtractionResults, docs_of
from xtract_service.redis_client import Fields
from xtract_service.settings import Settings
from xtract_service.streams import Cursor

MAX_SCANNED = 20_000  # documents one request reads
CHUNK = 500  # documents checked for being current in one round trip
MAX_FIELD_DEPTH = 8  # how deep a field search looks into an extractor's answer


@dataclass(frozen=True)
class Query:
    """What to look for; empty filters match everything."""

    path: str = ""
    type: str = ""
    extractor: str = ""
    field: str = ""
    error: str = ""  # a kind of error record the file has (``timeout``, ``TypeError``)


def matches_field(metadata: Any, field: str) -> bool:
    """Whether some key named ``name`` (at any depth, in lists too) is in ``metadata``,
    holding a value whose text contains ``value``, for ``field`` = ``name[=value]``."""
    name, has_value, value = field.partition("=")
    name, value = name.strip().lower(), value.strip().lower()

    def walk(x: Any, depth: int) -> bool:
        if depth > MAX_FIELD_DEPTH:
            return False
        if isinstance(x, dict):
            for k, v in x.items():
                if str(k).lower() == name and (not has_value or value in _text(v)):
                    return True
                if walk(v, depth + 1):
                    return True
        elif isinstance(x, list):
            return any(walk(v, depth + 1) for v in x[:1000])
        return False

    return walk(metadata, 0)


MAX_FIELD_TEXT = 64 << 10  # characters of one file's field_text
MAX_VALUE_TEXT = 200


def field_text(metadata: Any) -> str:
    """Every ``key=value`` of a file's metadata at any depth (lists too), lower-cased,
    one a line, values cut at :data:`MAX_VALUE_TEXT` characters: what a field search
    (``name`` or ``name=value``) looks through, as :func:`matches_field` does; the
    metadata index keeps it per file."""
    lines: list[str] = []
    size = 0

    def walk(x: Any, depth: int) -> None:
        nonlocal size
        if depth > MAX_FIELD_DEPTH or size > MAX_FIELD_TEXT:
            return
        if isinstance(x, dict):
            for k, v in x.items():
                value = v if isinstance(v, str) else json.dumps(v, default=str)
                line = f"{str(k).lower()}={value[:MAX_VALUE_TEXT].lower()}".replace("\n", " ")
                lines.append(line)
                size += len(line) + 1
                walk(v, depth + 1)
        elif isinstance(x, list):
            for v in x[:1000]:
                walk(v, depth + 1)

    walk(metadata, 0)
    return "\n".join(lines)[:MAX_FIELD_TEXT]


def _text(v: Any) -> str:
    return (v if isinstance(v, str) else str(v)).lower()


def file_hit(doc: Any, path: str, q: Query) -> dict[str, Any] | None:
    """The file's entry in the answer if it matches the query, else None."""
    if q.path and q.path.lower() not in path.lower():
        return None
    md: dict[str, Any] = doc.get("metadata", {}).get(path, {})
    mimetype = str(md.get("filetype", {}).get("mimetype") or "")
    if q.type and q.type.lower() not in mimetype.lower():
        return None
    readers = sorted(k for k in md if k != "filetype")
    if q.extractor and not any(q.extractor.lower() in r.lower() for r in readers):
        return None
    if q.field and not matches_field(md, q.field):
        return None
    errors = [e for e in doc.get("errors", []) if e.get("path") == path]
    if q.error and not any(q.error.lower() in str(e.get("error", "")).lower() for e in errors):
        return None
    return {
        "path": path,
        "family_id": doc["family_id"],
        "mimetype": mimetype or None,
        "extractors": readers,
        "errors": errors,
        "metadata": md,
    }


class _Counted:
    """Documents of results entries, counting the bytes of JSON read."""

    def __init__(self) -> None:
        self.bytes = 0

    def __call__(self, fields: Fields) -> list[Document]:
        self.bytes += len(fields["docs"])
        return docs_of(fields)


def search(
    results: ExtractionResults,
    crawl_id: str,
    q: Query,
    after: str | None,
    limit: int,
    max_bytes: int = 16 * 1024 * 1024,
) -> dict[str, Any]:
    """Up to ``limit`` matching files after the cursor ``after``: ``{files, scanned,
    next}`` (``next`` is ``None`` once every document was read). A request reads at
    most ``MAX_SCANNED`` documents and about ``max_bytes`` of them (the documents of one
    more results entry at most), then answers with ``next``. Documents a retry
    superseded are skipped."""
    files: list[dict[str, Any]] = []
    scanned = 0
    counted = _Counted()
    docs = results.read(crawl_id, Cursor.parse(after), counted, scan=1)  # one entry at a time
    while True:
        chunk = []
        for item in docs:
            chunk.append(item)
            if len(chunk) >= CHUNK or counted.bytes >= max_bytes:
                break
        if not chunk:
            return {"files": files, "scanned": scanned, "next": None}
        current = {id(d) for d in results.current(crawl_id, [d for _, d in chunk])}
        for position, doc in chunk:
            scanned += 1
            if id(doc) in current:
                for rec in doc.get("files", []):
                    hit = file_hit(doc, rec["path"], q)
                    if hit is not None:
                        files.append(hit)
            full = scanned >= MAX_SCANNED or (
                counted.bytes >= max_bytes and position == chunk[-1][0]
            )
            if len(files) >= limit or full:
                return {"files": files, "scanned": scanned, "next": str(position)}


MAX_OFFSET = 1 << 30


def find(
    results: ExtractionResults,
    settings: Settings,
    crawl_id: str,
    q: Query,
    after: str | None,
    limit: int,
) -> dict[str, Any]:
    """Matching files a page at a time, from the metadata index where the crawl has
    one: ``{files, matched, searched, scanned, complete, next}`` with exact counts
    (``matched`` of ``searched`` files; ``complete``: every recorded document is
    indexed; ``next`` only when another page holds files). Without an index, or while
    documents wait to be indexed (an extraction running), the bounded scan of the
    documents (:func:`search`: ``scanned`` says how far it read), which misses none.
    ValueError for a cursor that is neither's."""
    from xtract_service.extraction.index import search_index, summary  # index uses us

    state = summary(results.r, settings, crawl_id)
    behind = after is None and state["pending"]
    if not behind and (after is None or after.startswith("i:")):
        offset = 0
        if after is not None:
            if not after[2:].isdigit() or int(after[2:]) > MAX_OFFSET:
                raise ValueError(after)
            offset = int(after[2:])
        found = search_index(settings, state, q, offset, limit)
        if found is not None:
            docs = results.documents_of(crawl_id, sorted({fid for _, fid in found["files"]}))
            files = [
                hit
                for path, fid in found["files"]
                if fid in docs and (hit := file_hit(docs[fid], path, Query())) is not None
            ]
            return {**found, "files": files, "scanned": found["searched"], "source": "index"}
        if after is not None:
            raise ValueError(after)
    return {
        **search(results, crawl_id, q, after, limit, settings.search_scan_bytes),
        "source": "documents",
    }
