"""Extraction results in Redis: recording each family's document exactly once, which
documents are current, and paging through them.

Recording is one Lua script per batch (``xtract_record``): a family's state is set with
``HSETNX``, and only the families set there have their documents added to the results
stream and counted, so a batch delivered twice (after an orchestrator died) is recorded
once. A retry deletes a family's state; its new document then supersedes the old one,
which pages and offloads skip.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, TypedDict

import redis

from xtract_sdk.status import FamilyState
from xtract_service import keys, scripts
from xtract_service.errors import BadRequest
from xtract_service.extraction.documents import Document
from xtract_service.redis_client import Fields, text
from xtract_service.streams import Cursor, walk


def has_errors(state: Any) -> bool:
    """A family extracted (``success``) where at least one extractor failed: counted
    as ``fx.errors``, so no error hides behind a success."""
    return state["state"] == FamilyState.SUCCESS and any(
        e.get("state") == FamilyState.FAILED for e in state.get("extractors", {}).values()
    )


class FamilyRecord(TypedDict):
    """A family's recorded state (``crawl:{id}:fstate``)."""

    state: str  # a FamilyState
    tries: int
    seconds: float
    extractors: dict[str, Any]
    error: str | None
    at: float
    version: float | None  # the extracted_at of its current document


def docs_of(fields: Fields) -> list[Document]:
    """The documents of one results stream entry."""
    docs: list[Document] = json.loads(fields["docs"])
    return docs


def error_kinds(doc: Document) -> list[list[Any]]:
    """``[[kind, records]]`` of a document's error records (the kind is the record's
    ``error``: ``timeout``, ``TypeError``, ``staging``, ...)."""
    kinds: dict[str, int] = {}
    for e in doc.get("errors", []):
        kind = str(e.get("error") or "error")[:100]
        kinds[kind] = kinds.get(kind, 0) + 1
    return [[k, n] for k, n in sorted(kinds.items())]


def kinds_of(stored: dict[Any, Any]) -> dict[str, int]:
    """Error records per kind, from the ``crawl:{id}:xtract:errors`` hash."""
    return {text(k): int(v) for k, v in stored.items() if int(v) > 0}


def rates_of(stored: dict[Any, Any]) -> dict[str, dict[str, float]]:
    """``{extractor: {files, seconds}}`` from the ``crawl:{id}:xtract:rates`` hash."""
    out: dict[str, dict[str, float]] = {}
    for key, value in stored.items():
        name, _, what = text(key).rpartition(":")
        out.setdefault(name, {"files": 0.0, "seconds": 0.0})[what] = float(value)
    return out


def timings(doc: Document) -> list[list[Any]]:
    """``[[extractor, files read, seconds]]`` of a document (files reused from identical
    content, and carried documents, took no time and are not counted)."""
    if doc.get("carried_from"):
        return []
    out = []
    for name, s in doc["extractors"].items():
        read = int(s.get("files", 0)) - int(s.get("reused", 0))
        if read > 0:
            out.append([name, read, float(s.get("seconds", 0.0))])
    return out


class ExtractionResults:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r
        self._record = scripts.load(r, "xtract_record")

    def recorded(self, crawl_id: str, family_ids: list[str]) -> set[str]:
        """Which of these families already have a recorded state."""
        if not family_ids:
            return set()
        states = self.r.hmget(keys.family_state(crawl_id), family_ids)
        return {fid for fid, s in zip(family_ids, states, strict=True) if s is not None}

    def record(
        self, crawl_id: str, docs: list[Document], ok: list[bool], owner: str = ""
    ) -> set[str]:
        """Record documents; returns the ids recorded now (not already before). Their
        size counts against ``owner``'s metadata quota."""
        args: list[Any] = [len(docs)]
        now = time.time()
        for doc, good in zip(docs, ok, strict=True):
            state: FamilyRecord = {
                "state": FamilyState.SUCCESS if good else FamilyState.FAILED,
                "tries": 1,
                "seconds": round(sum(e["seconds"] for e in doc["extractors"].values()), 6),
                "extractors": doc["extractors"],
                "error": None if good else doc["errors"][0]["message"],
                "at": now,
                "version": doc.get("extracted_at"),
            }
            args += [
                doc["family_id"],
                json.dumps(state),
                json.dumps(doc),
                "1" if good else "0",
                len(doc["unknown"]),
                len(doc["files"]),
                "1" if has_errors(state) else "0",
                "1" if doc.get("carried_from") else "0",
                json.dumps({"t": timings(doc), "e": error_kinds(doc)}),
            ]
        k = [
            keys.family_state(crawl_id),
            keys.xtract(crawl_id),
            keys.results(crawl_id),
            keys.document_at(crawl_id),
            keys.xtract_rates(crawl_id),
            keys.xtract_error_kinds(crawl_id),
        ]
        *ids, size = (text(x) for x in self._record(keys=k, args=args))
        recorded = set(ids)
        if recorded:  # the owner's usage (its own slot), and the metadata index takes them
            self.r.hincrby(keys.owner_usage(owner), "metadata_bytes", int(size))
            self.r.sadd(keys.INDEX_PENDING, crawl_id)  # next (extraction/index.py)
        return recorded

    def documents_of(self, crawl_id: str, family_ids: list[str]) -> dict[str, Document]:
        """The current document of each of these families that has one (two round
        trips: where each document is, then those results entries)."""
        if not family_ids:
            return {}
        at = self.r.hmget(keys.document_at(crawl_id), family_ids)
        entries = sorted({text(a) for a in at if a is not None})
        pipe = self.r.pipeline(transaction=False)
        for eid in entries:
            pipe.xrange(keys.results(crawl_id), min=eid, max=eid)
        wanted = set(family_ids)
        found: dict[str, Document] = {}
        for reply in pipe.execute():
            for _, fields in reply:
                for doc in docs_of(fields):
                    if doc["family_id"] in wanted:
                        found[doc["family_id"]] = doc
        return found

    def states(self, crawl_id: str) -> Iterator[tuple[str, FamilyRecord]]:
        """Every recorded family and its state."""
        for fid, raw in self.r.hscan_iter(keys.family_state(crawl_id), count=1000):
            yield text(fid), json.loads(raw)

    def current(self, crawl_id: str, docs: list[Document]) -> list[Document]:
        """The documents that are still their family's latest (a retry supersedes)."""
        if not docs:
            return []
        states = self.r.hmget(keys.family_state(crawl_id), [d["family_id"] for d in docs])
        out = []
        for doc, raw in zip(docs, states, strict=True):
            if raw is not None and json.loads(raw).get("version") == doc.get("extracted_at"):
                out.append(doc)
        return out

    def read(
        self,
        crawl_id: str,
        cursor: Cursor,
        unpack: Callable[[Fields], Sequence[Document]] = docs_of,
        scan: int = 16,
    ) -> Iterator[tuple[Cursor, Document]]:
        """Every document after ``cursor`` (current or not), with the cursor after it;
        ``unpack`` reads an entry's documents (a reader that counts them, say), ``scan``
        entries are fetched per round trip."""
        return walk(self.r, keys.results(crawl_id), cursor, unpack, scan)

    def latest(self, crawl_id: str, family_ids: set[str]) -> dict[str, Document]:
        """The newest document of each of these families."""
        found: dict[str, Document] = {}
        for _, doc in self.read(crawl_id, Cursor()) if family_ids else ():
            if doc["family_id"] in family_ids:
                found[doc["family_id"]] = doc
        return found

    def page(self, crawl_id: str, after: str | None, limit: int) -> dict[str, Any]:
        """Up to ``limit`` metadata documents after the cursor ``after`` (read-only)."""
        try:
            cursor = Cursor.parse(after)
        except ValueError:
            raise BadRequest(
                f"bad cursor {after!r}; pass the 'next' of the previous page", "bad_cursor"
            ) from None
        taken = list(islice(self.read(crawl_id, cursor), limit))
        out = [doc for _, doc in taken]
        nxt = taken[-1][0] if taken else None
        # a retried family's older document is skipped (the page may come out shorter)
        docs = self.current(crawl_id, out)
        return {
            "crawl_id": crawl_id,
            "documents": docs,
            "count": len(out),
            "next": str(nxt) if nxt else None,
        }
