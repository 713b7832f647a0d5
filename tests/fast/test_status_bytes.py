"""Status documents kept as bytes (``api/status_bytes.py``), against the real embedded
Redis: fifty polls at once render once; a commit, a stop or time passing renders
again; an ended crawl is never rendered again; what is served is what the synchronous
store renders for the same state."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis

from xtract_sdk.status import CrawlStatus
from xtract_service.api.status_bytes import StatusBytes
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import CrawlNotFound, CrawlStore
from xtract_service.redis_client import connect_async
from xtract_service.redis_server import EmbeddedRedis

from .test_stores import listing, take_frontier


def serve(
    embedded: EmbeddedRedis, fresh: float, *steps: Callable[[StatusBytes], Awaitable[Any]]
) -> list[Any]:
    """Run ``steps`` (async callables taking a StatusBytes) on one loop; their answers."""

    async def run() -> list[Any]:
        ar = connect_async(embedded.url)
        try:
            statuses = StatusBytes(ar, fresh=fresh)
            return [await step(statuses) for step in steps]
        finally:
            await ar.aclose()

    return asyncio.run(run())


async def poll(statuses: StatusBytes, cid: str, by_owner: bool = True) -> dict:
    version = await statuses.version(cid)
    return json.loads(await statuses.body(cid, version, by_owner=by_owner))


def test_fifty_polls_at_once_render_once_and_a_commit_renders_again(
    r: redis.Redis, embedded: EmbeddedRedis
) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    entry, _ = take_frontier(r, cid)
    commit, batches = listing(cid, "/data", ["a.csv", "b.txt"])
    commit.subdirs = [("/data/x", "/data/x")]

    async def fifty(s: StatusBytes) -> tuple[int, list[dict]]:
        docs = await asyncio.gather(*(poll(s, cid) for _ in range(50)))
        return s.renders, docs

    async def after_commit(s: StatusBytes) -> tuple[int, dict]:
        store.commit(entry, commit, batches)  # a worker's commit, between two polls
        doc = await poll(s, cid)
        return s.renders, doc

    (renders, docs), (renders_after, doc) = serve(embedded, 60.0, fifty, after_commit)
    assert renders == 1 and all(d == docs[0] for d in docs)
    assert docs[0]["data"]["files_crawled"] == 0
    assert renders_after == 2 and doc["data"]["files_crawled"] == 2
    assert doc["status"] == store.status(cid, "alice")["status"] == CrawlStatus.CRAWLING


def test_a_running_crawl_is_rendered_again_when_stale_and_an_ended_one_never(
    r: redis.Redis, embedded: EmbeddedRedis
) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")

    async def twice_stale(s: StatusBytes) -> int:
        await poll(s, cid)
        await asyncio.sleep(0.06)
        await poll(s, cid)  # same version, but older than fresh: elapsed time moved
        return s.renders

    async def cancelled(s: StatusBytes) -> tuple[dict, int]:
        store.cancel(cid, "alice")
        doc = await poll(s, cid)  # the next poll tells the stop: no stale bytes
        rendered = s.renders
        await asyncio.sleep(0.06)
        for _ in range(5):
            assert await poll(s, cid) == doc  # ended: the same bytes for good
        return doc, s.renders - rendered

    renders, (doc, again) = serve(embedded, 0.05, twice_stale, cancelled)
    assert renders == 2
    assert doc["status"] == CrawlStatus.CANCELLED == store.status(cid, "alice")["status"]
    assert again == 0
    synchronous = store.status(cid, "alice")
    assert doc["data"] == synchronous["data"]  # ended: elapsed and forecast are fixed


def test_no_crawl_and_a_bad_id_are_not_found_and_a_reader_is_not_shown_since(
    r: redis.Redis, embedded: EmbeddedRedis
) -> None:
    store = CrawlStore(r)
    base = store.create(CrawlSpec(dirs=["/data"]), "alice")
    cid = store.create(CrawlSpec(dirs=["/data"], since=base), "alice")

    async def missing(s: StatusBytes) -> list[str]:
        refused = []
        for bad in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
            with pytest.raises(CrawlNotFound) as e:
                await poll(s, bad)
            refused.append(str(e.value))
        return refused

    async def both(s: StatusBytes) -> tuple[dict, dict]:
        return await poll(s, cid, True), await poll(s, cid, False)

    refused, (owner_doc, reader_doc) = serve(embedded, 60.0, missing, both)
    assert "no crawl" in refused[0] and "not a crawl id" in refused[1]
    assert owner_doc["data"]["changes"]["since"] == base
    assert "since" not in reader_doc["data"]["changes"]
