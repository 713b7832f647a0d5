"""Crawl status served as stored bytes, on the event loop.

A status poll is the API's most frequent request: every SDK monitor, dashboard and
``xtract watch`` asks several times a second. Each API process keeps, per crawl, the
status document rendered as JSON bytes together with the crawl's *version*: its owner,
status word, folders listed and fallback reason, which every commit, stop and fallback
changes. A poll asks Redis for the version only (one ``HMGET`` on the asyncio client, no
thread-pool hop, no dependency solving) and is answered with the stored bytes while the
version is unchanged and the bytes are younger than :data:`FRESH_SECONDS` (the elapsed
time and the forecast move on their own), or for good once the crawl has ended. Else
one read of the document's four keys renders it again, once for every request waiting
on it (a single flight per crawl). So whatever the number of pollers, a crawl costs
each API process one render per :data:`FRESH_SECONDS` at most, and a write is seen by
the next poll (read-your-writes: a cancel is never answered with the status before).

Why the API renders and not each commit: a commit is the crawl workers' hot path, and a
document a worker wrote would be stale in its elapsed time the moment it landed.

Callers the process cannot place without I/O (issued tokens, Globus tokens, a sharee
of the crawl) are placed on the thread pool as before; the crawl's owner holding the
service's local token never leaves the loop.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from xtract_sdk.status import CrawlStatus
from xtract_sdk.tables import json_bytes
from xtract_service.api.deps import caller_from_token, get_auth, get_crawls
from xtract_service.auth import Caller, strip_bearer
from xtract_service.crawl.store import CrawlNotFound, status_document, status_reads, valid_key
from xtract_service.redis_client import text

FRESH_SECONDS = 0.25  # a running crawl's document is rendered again after this
MAX_CRAWLS = 1024  # documents kept per process (least recently read dropped first)
VERSION = ("owner", "status", "dirs_done", "fallback")  # what every change of it changes
_ENDED = frozenset(CrawlStatus.terminal())


@dataclass
class _Kept:
    version: tuple[str, ...]
    at: float
    replies: list[Any]
    bodies: dict[bool, bytes] = field(default_factory=dict)  # by_owner -> JSON bytes

    def body(self, crawl_id: str, by_owner: bool) -> bytes:
        if by_owner not in self.bodies:
            doc = status_document(crawl_id, self.replies, None, by_owner=by_owner)
            self.bodies[by_owner] = json_bytes(doc)
        return self.bodies[by_owner]


class StatusBytes:
    """The per-process store of rendered crawl status documents (see the module)."""

    def __init__(self, ar: Any, fresh: float = FRESH_SECONDS) -> None:
        self.ar = ar  # a redis.asyncio client (decoded replies)
        self.fresh = fresh
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        self._flying: dict[str, asyncio.Future[_Kept]] = {}
        self.renders = 0  # documents rendered by this process (for tests and benches)

    async def version(self, crawl_id: str) -> tuple[str, ...]:
        """The crawl's version (see the module); its owner first ("" if no such crawl)."""
        found = await self.ar.hmget(valid_key(crawl_id), list(VERSION))
        return tuple(text(v) if v is not None else "" for v in found)

    async def body(self, crawl_id: str, version: tuple[str, ...], *, by_owner: bool) -> bytes:
        """The status document of ``crawl_id`` as JSON bytes, given the ``version`` just
        read, once the caller has been placed as its owner or a reader of it."""
        if not version[0]:
            raise CrawlNotFound(f"no crawl {crawl_id} belongs to you")
        kept = self._kept.get(crawl_id)
        if kept is None or kept.version != version or not self._current(kept):
            kept = await self._render(crawl_id)
        self._kept.move_to_end(crawl_id)
        return kept.body(crawl_id, by_owner)

    def _current(self, kept: _Kept) -> bool:
        return kept.version[1] in _ENDED or time.monotonic() - kept.at < self.fresh

    async def _render(self, crawl_id: str) -> _Kept:
        flying = self._flying.get(crawl_id)
        if flying is None:
            flying = asyncio.ensure_future(self._read(crawl_id))
            self._flying[crawl_id] = flying
            flying.add_done_callback(lambda _: self._flying.pop(crawl_id, None))
        return await asyncio.shield(flying)  # a poller gone does not cancel the others'

    async def _read(self, crawl_id: str) -> _Kept:
        at = time.monotonic()
        pipe = self.ar.pipeline(transaction=False)
        status_reads(pipe, crawl_id)
        replies = list(await pipe.execute())
        h = {text(k): text(v) for k, v in replies[0].items()}
        if not h:
            raise CrawlNotFound(f"no crawl {crawl_id} belongs to you")
        kept = _Kept(tuple(h.get(f, "") for f in VERSION), at, replies)
        kept.body(crawl_id, True)  # rendered now: a bad record fails here, not later
        self.renders += 1
        self._kept[crawl_id] = kept
        while len(self._kept) > MAX_CRAWLS:
            self._kept.popitem(last=False)
        return kept


async def caller_of(request: Request) -> Caller:
    """The caller, placed on the loop when that needs no I/O (the service's local
    token), else on the thread pool."""
    token = strip_bearer(request.headers.get("authorization"))
    known = get_auth(request).known(token) if token else None
    if known is not None:
        return known
    return await run_in_threadpool(caller_from_token, request, token)


async def crawl_status_body(request: Request, crawl_id: str) -> Response:
    """``GET /v1/crawls/{id}``'s answer (see the module)."""
    from xtract_service.sharing import read_as

    caller = await caller_of(request)
    statuses: StatusBytes = request.app.state.statuses
    version = await statuses.version(crawl_id)
    owner = version[0]
    if owner != caller.owner:  # a sharee, or no such crawl of theirs: as before
        owner = await run_in_threadpool(
            read_as, get_crawls(request), crawl_id, caller, get_auth(request).groups_of
        )
    body = await statuses.body(crawl_id, version, by_owner=caller.owner == owner)
    return Response(body, media_type="application/json")
