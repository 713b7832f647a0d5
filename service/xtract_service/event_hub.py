"""Serving events to many watchers at once, on the event loop.

Every SSE client of one crawl shares one reader: an asyncio task that blocks on
``XREAD`` for that crawl's event stream (one Redis connection per watched crawl, not
per client) and hands each batch to every subscriber's queue. A subscriber first
catches up from its ``Last-Event-ID`` with ``XRANGE``, then takes the live feed,
skipping what it already sent. A new reader starts at the stream's end as it is when the
reader starts, which may be after a subscriber's catch-up ended; so once the reader has
its starting point, each subscriber catches up once more, and nothing falls between
the two (an event written in that gap used to be lost for the first watchers). A
subscriber too slow to keep up is dropped (its client reconnects with ``Last-Event-ID``
and misses nothing the capped stream still holds). No thread is held per client, so a
thousand watchers leave every other request alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from xtract_service import keys
from xtract_service.redis_client import Entry, entries_of, ranged, text

QUEUE = 1000  # batches a subscriber may fall behind before it is dropped
BLOCK_MS = 1000  # how long a reader waits on XREAD; each quiet wait is a keep-alive tick
CATCH_UP = 500  # events read per XRANGE while catching up


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass
class _Feed:
    last: str | None = None  # where the reader is; set by the reader when it starts
    subscribers: set[asyncio.Queue[list[Entry] | None]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # the reader has a start


class EventHub:
    """One reader per watched crawl, fanned out to every watcher."""

    def __init__(self, ar: Any) -> None:
        self.ar = ar  # a redis.asyncio client (decoded replies)
        self.feeds: dict[str, _Feed] = {}

    async def watch(self, crawl_id: str, after: str) -> AsyncIterator[Entry | None]:
        """The crawl's events after ``after``, live; ``None`` on each quiet second."""
        queue: asyncio.Queue[list[Entry] | None] = asyncio.Queue(QUEUE)
        feed = self._join(crawl_id, queue)
        try:
            key = keys.events(crawl_id)
            last = after
            for rounds in range(2):  # what the stream holds; then up to the reader's start
                if rounds:
                    await feed.ready.wait()
                async for entry in self._catch_up(key, last):
                    last = entry.id
                    yield entry
            while True:
                batch = await queue.get()
                if batch is None:
                    if queue not in feed.subscribers:
                        return  # dropped for falling behind: the client resumes
                    yield None
                    continue
                for entry in batch:
                    if _order(entry.id) > _order(last):
                        last = entry.id
                        yield entry
        finally:
            self._leave(crawl_id, queue)

    async def _catch_up(self, key: str, after: str) -> AsyncIterator[Entry]:
        """Every entry of the stream after ``after``, a page at a time."""
        last = after
        while True:
            found = ranged(key, await self.ar.xrange(key, min=f"({last}", count=CATCH_UP))
            for entry in found:
                yield entry
            if found:
                last = found[-1].id
            if len(found) < CATCH_UP:
                return

    def _join(self, crawl_id: str, queue: asyncio.Queue[list[Entry] | None]) -> _Feed:
        # no await here: every watcher that arrives at once joins the same feed
        feed = self.feeds.get(crawl_id)
        if feed is None:
            feed = self.feeds[crawl_id] = _Feed()
            feed.task = asyncio.create_task(self._read(crawl_id, feed))
        feed.subscribers.add(queue)
        return feed

    def _leave(self, crawl_id: str, queue: asyncio.Queue[list[Entry] | None]) -> None:
        feed = self.feeds.get(crawl_id)
        if feed is None:
            return
        feed.subscribers.discard(queue)
        if not feed.subscribers and feed.task is not None:
            feed.task.cancel()
            self.feeds.pop(crawl_id, None)

    async def _read(self, crawl_id: str, feed: _Feed) -> None:
        key = keys.events(crawl_id)
        try:
            newest = await self.ar.xrevrange(key, count=1)  # start at the stream's end
            feed.last = text(newest[0][0]) if newest else "0-0"
        finally:
            feed.ready.set()  # (even if Redis failed: watchers then read from "0-0")
        while feed.subscribers:
            try:
                reply = await self.ar.xread({key: feed.last or "0-0"}, count=500, block=BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away for a moment: tell watchers, try again
                reply = None
                await asyncio.sleep(1)
            batch = entries_of(reply)
            if batch:
                feed.last = batch[-1].id
            for queue in list(feed.subscribers):
                try:
                    queue.put_nowait(batch or None)
                except asyncio.QueueFull:  # too slow: dropped, it reconnects
                    feed.subscribers.discard(queue)
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.get_nowait()
                        queue.put_nowait(None)

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            if feed.task is not None:
                feed.task.cancel()
        self.feeds.clear()
