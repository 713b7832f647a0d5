"""The first watchers of a crawl miss no event written between their catch-up and the
moment the shared reader starts (the 200-watcher test lost ``crawl.completed`` for a
few of them, now and then). The gap is made certain: the Redis client the hub uses
writes an event just as the reader asks where the stream ends, after the watcher's
first catch-up read."""

from __future__ import annotations

import asyncio
from typing import Any

from xtract_service import keys
from xtract_service.event_hub import EventHub
from xtract_service.redis_client import connect_async
from xtract_service.redis_server import EmbeddedRedis


class WritesInTheGap:
    """A redis.asyncio client that, when the reader looks for the stream's end, first
    waits for the watcher's catch-up read and then writes one more event."""

    def __init__(self, real: Any, key: str) -> None:
        self.real, self.key = real, key
        self.caught_up = asyncio.Event()

    async def xrange(self, *args: Any, **kw: Any) -> Any:
        got = await self.real.xrange(*args, **kw)
        self.caught_up.set()
        return got

    async def xrevrange(self, *args: Any, **kw: Any) -> Any:
        await self.caught_up.wait()
        await self.real.xadd(self.key, {"type": "crawl.completed"})
        return await self.real.xrevrange(*args, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_an_event_written_before_the_reader_starts_is_delivered(embedded: EmbeddedRedis) -> None:
    async def run() -> list[str]:
        real = connect_async(embedded.url)
        key = keys.events("00000000-0000-0000-0000-00000000e0e0")
        await real.delete(key)
        first = await real.xadd(key, {"type": "crawl.started"})
        hub = EventHub(WritesInTheGap(real, key))
        seen: list[str] = []

        async def watch() -> None:
            async for entry in hub.watch("00000000-0000-0000-0000-00000000e0e0", "0-0"):
                if entry is not None:
                    seen.append(entry.fields["type"])
                    if entry.fields["type"] == "crawl.completed":
                        return

        try:
            await asyncio.wait_for(watch(), timeout=10)
        finally:
            await hub.close()
            await real.aclose()
        assert first
        return seen

    assert asyncio.run(run()) == ["crawl.started", "crawl.completed"]
