"""The crawl record: the fields of a crawl's hash (``keys.crawl(id)``), named, typed, and
read or written by this module only. The Lua scripts that commit and stop a crawl write
the same fields (their headers name them); everything in Python asks here.

A whole record is a :class:`CrawlRecord`; the one-field readers (:func:`owner`,
:func:`status`, :func:`spec`, ...) are for hot paths that need one value.

>>> (rec,) = load_many(r, [crawl_id])           # doctest: +SKIP
>>> rec.owner, rec.status, rec.spec["dirs"]     # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping as Fields
from dataclasses import dataclass
from typing import Any

import redis

from xtract_sdk.status import CrawlStatus
from xtract_service import keys
from xtract_service.redis_client import Mapping, maybe_text, number, text

CHANGE_CLASSES = ("added", "changed", "removed", "unchanged")  # a since crawl's files
COUNTERS = (
    "files",
    "bytes",
    "groups",
    "families",
    "dirs_done",
    "dirs_pending",
    "errors",
    "links_skipped",
    "dirs_revisited",
    "dirs_unreadable",
    *CHANGE_CLASSES,
)


def _time(value: str | None) -> float | None:
    return float(value) if value else None


@dataclass(frozen=True)
class CrawlRecord:
    """One crawl's record, as stored."""

    crawl_id: str
    owner: str
    status: str
    message: str
    spec: dict[str, Any]  # the CrawlSpec, as JSON
    dirs_per_entry: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    fallback: str | None  # why a Compute-listed crawl went on with Transfer
    counts: dict[str, int]

    @classmethod
    def parse(cls, crawl_id: str, h: Fields[str, str]) -> CrawlRecord:
        """The record from its hash's fields (decoded)."""
        return cls(
            crawl_id=crawl_id,
            owner=h.get("owner", ""),
            status=h.get("status", ""),
            message=h.get("message", "OK"),
            spec=json.loads(h["spec"]) if h.get("spec") else {},
            dirs_per_entry=number(h.get("dirs_per_entry"), 1),
            created_at=float(h.get("created_at") or 0),
            started_at=_time(h.get("started_at")),
            finished_at=_time(h.get("finished_at")),
            fallback=h.get("fallback") or None,
            counts={c: number(h.get(c)) for c in COUNTERS},
        )


def create(
    pipe: redis.client.Pipeline, crawl_id: str, owner: str, spec_json: str, per: int, now: float
) -> None:
    """Write a new crawl's record (``per``: sub-directories per frontier entry)."""
    fields: Mapping = {
        "crawl_id": crawl_id,
        "owner": owner,
        "status": CrawlStatus.INITIALIZING.value,
        "message": "OK",
        "spec": spec_json,
        "dirs_per_entry": per,
        "created_at": now,
        **dict.fromkeys(COUNTERS, 0),
        "dirs_pending": len(json.loads(spec_json)["dirs"]),
    }
    pipe.hset(keys.crawl(crawl_id), mapping=fields)


def load_many(r: redis.Redis, crawl_ids: list[str]) -> list[CrawlRecord | None]:
    """Many whole records in one round trip (None: no such crawl)."""
    pipe = r.pipeline(transaction=False)
    for cid in crawl_ids:
        pipe.hgetall(keys.crawl(cid))
    return [
        CrawlRecord.parse(cid, {text(k): text(v) for k, v in raw.items()}) if raw else None
        for cid, raw in zip(crawl_ids, pipe.execute(), strict=True)
    ]


def owner(r: redis.Redis, crawl_id: str) -> str | None:
    """Whose crawl this is (None: no such crawl)."""
    return maybe_text(r.hget(keys.crawl(crawl_id), "owner"))


def status(r: redis.Redis, crawl_id: str) -> str:
    """The crawl's status word (``""``: no such crawl). ``r`` may be a watching pipeline."""
    return text(r.hget(keys.crawl(crawl_id), "status"))


def statuses(r: redis.Redis, crawl_ids: Iterable[str]) -> list[str | None]:
    """Status words of many crawls in one round trip (None: no such crawl)."""
    pipe = r.pipeline(transaction=False)
    for cid in crawl_ids:
        pipe.hget(keys.crawl(cid), "status")
    return [maybe_text(s) for s in pipe.execute()]


def spec(r: redis.Redis, crawl_id: str) -> dict[str, Any] | None:
    """The crawl's spec, as JSON (None: no such crawl)."""
    raw = r.hget(keys.crawl(crawl_id), "spec")
    return json.loads(raw) if raw else None


def finished_at(r: redis.Redis, crawl_id: str) -> float | None:
    """When the crawl ended (None: it has not, or there is no such crawl)."""
    return _time(maybe_text(r.hget(keys.crawl(crawl_id), "finished_at")))


def families_found(r: redis.Redis, crawl_id: str) -> int:
    """How many families the crawl has found so far."""
    return number(r.hget(keys.crawl(crawl_id), "families"))


def fields(r: redis.Redis, crawl_id: str, names: list[str]) -> list[str | None]:
    """Some fields, raw, in one read (for readers of counters as they change)."""
    return [maybe_text(v) for v in r.hmget(keys.crawl(crawl_id), names)]


def set_fallback(r: redis.Redis, crawl_id: str, reason: str) -> bool:
    """Record why a Compute-listed crawl went on with Transfer; True the first time."""
    return bool(r.hsetnx(keys.crawl(crawl_id), "fallback", reason))


def fallback(r: redis.Redis, crawl_id: str) -> str | None:
    """Why the crawl's Compute listing fell back to Transfer (None: it did not)."""
    return maybe_text(r.hget(keys.crawl(crawl_id), "fallback"))
