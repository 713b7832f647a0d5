"""Per-owner quotas and forgetting: an owner over a quota is refused with what to do, a
forgotten crawl leaves no key behind and gives its metadata bytes back, a crawl still
running cannot be forgotten, and the sweep forgets only finished crawls past retention."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from tests.fast.test_stores import document, listing, take_frontier
from xtract_sdk.status import XtractStatus
from xtract_service import keys
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import CrawlStore
from xtract_service.errors import Conflict, TooMany
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.quotas import check_crawl_quota, check_metadata_quota
from xtract_service.retention import forget_crawl, sweep
from xtract_service.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        max_running_crawls=2,
        max_stored_crawls=3,
        max_metadata_bytes=100,
        retention_days=1,
    )


def finished_crawl(r: redis.Redis, owner: str = "alice") -> str:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), owner)
    entry, _ = take_frontier(r, cid)
    commit, batches = listing(cid, "/data", ["a.txt", "b.txt"])
    store.commit(entry, commit, batches)
    return cid


def test_an_owner_over_a_crawl_quota_is_refused_with_what_to_do(
    r: redis.Redis, settings: Settings
) -> None:
    store = CrawlStore(r)
    for _ in range(2):
        store.create(CrawlSpec(dirs=["/data"]), "alice")
    with pytest.raises(TooMany, match="2 crawls running"):
        check_crawl_quota(r, "alice", settings)
    check_crawl_quota(r, "bob", settings)  # another owner is not held back
    finished_crawl(r)
    with pytest.raises(TooMany, match=r"keep 3 crawls.*forget"):
        check_crawl_quota(r, "alice", settings)


def test_forgetting_a_crawl_leaves_nothing_and_gives_its_bytes_back(
    r: redis.Redis, settings: Settings
) -> None:
    cid = finished_crawl(r)
    runs = ExtractionRuns(r)
    runs.start(cid, "alice", {"executor": "local"}, {})
    docs = [document(f"f{i}") for i in range(3)]
    runs.results.record(cid, docs, [True] * 3, "alice")
    assert runs.advance(cid, XtractStatus.COMPLETED)
    used = int(r.hget(keys.owner_usage("alice"), "metadata_bytes") or 0)
    assert used > 0
    with pytest.raises(TooMany, match="bytes of metadata"):
        check_metadata_quota(r, "alice", settings)
    forget_crawl(r, cid, settings)
    assert [k for k in r.scan_iter(match=f"*{cid}*")] == []
    assert int(r.hget(keys.owner_usage("alice"), "metadata_bytes") or 0) == 0
    assert r.zcard(keys.owner_crawls("alice")) == 0


def test_a_running_crawl_cannot_be_forgotten(r: redis.Redis, settings: Settings) -> None:
    cid = CrawlStore(r).create(CrawlSpec(dirs=["/data"]), "alice")
    with pytest.raises(Conflict, match="still runs"):
        forget_crawl(r, cid, settings)
    assert r.exists(keys.crawl(cid))


def test_the_sweep_forgets_only_finished_crawls_past_retention(
    r: redis.Redis, settings: Settings
) -> None:
    old, recent = finished_crawl(r), finished_crawl(r)
    running = CrawlStore(r).create(CrawlSpec(dirs=["/data"]), "alice")
    two_days_ago = time.time() - 2 * 86400
    r.zadd(keys.owner_crawls("alice"), {old: two_days_ago, running: two_days_ago})
    r.hset(keys.crawl(old), "finished_at", two_days_ago)
    assert sweep(r, settings) == 1
    assert not r.exists(keys.crawl(old))
    assert r.exists(keys.crawl(recent)) and r.exists(keys.crawl(running))
