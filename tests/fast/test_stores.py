"""The stores and their Lua scripts, driven directly: a listing commits once however
often it is delivered, status words only advance, a batch is recorded once, flush and
pages never return an item twice."""

from __future__ import annotations

import json

import orjson
import pytest
import redis

from xtract_sdk.status import CrawlStatus, XtractStatus
from xtract_service import keys
from xtract_service.crawl.families import make_blocks, pack
from xtract_service.crawl.flush import flush, release
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import Commit, CrawlNotFound, CrawlStore
from xtract_service.errors import BadRequest
from xtract_service.extraction.documents import Document
from xtract_service.extraction.runs import ExtractionExists, ExtractionRuns
from xtract_service.redis_client import entries_of
from xtract_service.streams import Cursor, create_group


def take_frontier(r: redis.Redis, crawl_id: str) -> tuple[str, list[str]]:
    (entry,) = entries_of(r.xreadgroup(keys.DIR_GROUP, "w1", {keys.dirs(crawl_id): ">"}, count=1))
    return entry.id, json.loads(entry.fields["dirs"])


def listing(crawl_id: str, directory: str, names: list[str]) -> tuple[Commit, list]:
    files = [[n, 10, 1.0] for n in names]
    blocks = make_blocks(directory, files, "per_file", 1000)
    commit = Commit(crawl_id, "w1", done=1, per_entry=64, files=len(names), bytes=10 * len(names))
    commit.families = commit.groups = len(names)
    return commit, pack(blocks, 1000)


def test_a_listing_delivered_twice_is_committed_once(r: redis.Redis) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    entry, dirs = take_frontier(r, cid)
    assert dirs == ["/data"]
    commit, batches = listing(cid, "/data", ["a.csv", "b.txt"])
    assert store.commit(entry, commit, batches) == 0
    assert store.commit(entry, commit, batches) == -1  # redelivered: nothing written
    status = store.status(cid, "alice")
    assert status["status"] == CrawlStatus.COMPLETE
    assert status["data"]["files_crawled"] == 2 and status["data"]["dirs_crawled"] == 1
    assert r.xlen(keys.families(cid)) == 1
    assert cid not in r.smembers(keys.ACTIVE)


def test_subdirectories_keep_a_crawl_running_until_they_are_listed(r: redis.Redis) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    entry, _ = take_frontier(r, cid)
    commit, batches = listing(cid, "/data", ["a.csv"])
    commit.subdirs = [("/data/x", "/data/x"), ("/data/y", "/data/y"), ("/data/x", "/data/x")]
    assert store.commit(entry, commit, batches) == 2  # the repeated one is a revisit
    assert store.status_word(cid) == CrawlStatus.CRAWLING
    # a small frontier is spread over one entry per directory, so workers share it
    first, dirs_x = take_frontier(r, cid)
    second, dirs_y = take_frontier(r, cid)
    assert dirs_x + dirs_y == ["/data/x", "/data/y"]
    assert store.commit(first, listing(cid, "/data/x", [])[0], []) == 1
    assert store.commit(second, listing(cid, "/data/y", [])[0], []) == 0
    assert store.status(cid, "alice")["data"]["dirs_revisited"] == 1


def test_a_wide_frontier_is_queued_in_entries_of_many_directories(r: redis.Redis) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    entry, _ = take_frontier(r, cid)
    commit, batches = listing(cid, "/data", [])
    commit.subdirs = [(f"/data/{i}", f"/data/{i}") for i in range(640)]
    assert store.commit(entry, commit, batches) == 640
    sizes = [
        len(json.loads(e.fields["dirs"]))
        for e in entries_of([[keys.dirs(cid), r.xrange(keys.dirs(cid))]])
    ]
    assert sum(sizes) == 640 and max(sizes) == 640 // 16 and len(sizes) == 16


def test_a_cancelled_crawl_stays_cancelled_and_others_cannot_see_it(r: redis.Redis) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    with pytest.raises(CrawlNotFound):
        store.cancel(cid, "bob")
    assert store.cancel(cid, "alice")["status"] == CrawlStatus.CANCELLED
    assert store.cancel(cid, "alice")["status"] == CrawlStatus.CANCELLED
    assert not r.exists(keys.dirs(cid))
    events = [e.fields["type"] for e in entries_of(r.xread({keys.events(cid): "0-0"}))]
    assert events.count("crawl.cancelled") == 1


def test_flush_never_returns_a_file_twice_and_says_when_it_is_done(r: redis.Redis) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    entry, _ = take_frontier(r, cid)
    names = [f"f{i}.txt" for i in range(25)]
    commit, batches = listing(cid, "/data", names)
    store.commit(entry, commit, batches)
    seen: list[str] = []
    while True:
        page = flush(r, cid, 10)
        seen += [f["path"] for f in page["file_ls"]]
        if page["queue_empty"]:
            break
    assert seen == [f"/data/{n}" for n in names]
    assert flush(r, cid, 10)["num_files"] == 0


def crawled(r: redis.Redis, n: int) -> tuple[str, list[str]]:
    """A finished crawl of ``n`` files in one folder, and their paths in order."""
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    entry, _ = take_frontier(r, cid)
    names = [f"f{i}.txt" for i in range(n)]
    commit, batches = listing(cid, "/data", names)
    store.commit(entry, commit, batches)
    return cid, [f"/data/{name}" for name in names]


def paths(page: dict) -> list[str]:
    return [f["path"] for f in page["file_ls"]]


def test_a_lease_nobody_acknowledges_is_handed_out_again_after_its_time(r: redis.Redis) -> None:
    cid, files = crawled(r, 30)
    lost = flush(r, cid, 10, consumer="a", lease_seconds=5, now=0)  # "a" never calls again
    other = flush(r, cid, 10, consumer="b", lease_seconds=5, now=1)
    assert paths(lost) == files[:10] and paths(other) == files[10:20]
    # a live lease of another consumer keeps the queue open
    rest = flush(r, cid, 10, consumer="b", lease_seconds=5, now=2)
    assert paths(rest) == files[20:] and not rest["queue_empty"]
    # past its time, a's lease comes back first (b's live lease is acknowledged by b)
    again = flush(r, cid, 10, consumer="b", lease_seconds=5, now=6)
    assert paths(again) == files[:10]
    last = flush(r, cid, 10, consumer="b", lease_seconds=5, now=7)
    assert last["num_files"] == 0 and last["queue_empty"] and last["lease"] is None


def test_a_released_lease_comes_back_whole_and_in_pieces(r: redis.Redis) -> None:
    cid, files = crawled(r, 25)
    abandoned = flush(r, cid, 20, now=0)
    assert release(r, cid, abandoned["lease"]) and not release(r, cid, abandoned["lease"])
    # the same consumer's next call does not acknowledge what was released
    first = flush(r, cid, 8, now=1)
    second = flush(r, cid, 8, now=2)
    third = flush(r, cid, 8, now=3)
    assert paths(first) + paths(second) == files[:16]
    assert paths(third) == files[16:20] + files[20:24]
    tail = flush(r, cid, 8, now=4)
    assert paths(tail) == files[24:] and tail["queue_empty"]


def test_an_explicit_ack_ends_a_lease_before_its_time(r: redis.Redis) -> None:
    cid, _ = crawled(r, 10)
    taken = flush(r, cid, 10, consumer="a", lease_seconds=5, now=0)
    assert not flush(r, cid, 1, consumer="b", lease_seconds=5, now=1)["queue_empty"]
    flush(r, cid, 1, consumer="b", ack=taken["lease"], lease_seconds=5, now=2)
    after = flush(r, cid, 10, consumer="b", lease_seconds=5, now=60)
    assert after["num_files"] == 0 and after["queue_empty"]


def test_acknowledged_leases_are_kept_apart_until_their_time_and_released_late(
    r: redis.Redis,
) -> None:
    """A loop of one-file pages: what each call reads whole (the leases hash) stays one
    consumer's lease however many calls came before; the leases they acknowledged are
    kept apart until their time is up, so one released late still comes back, and are
    forgotten after it."""
    cid, files = crawled(r, 40)
    pages = [flush(r, cid, 1, lease_seconds=100, now=i) for i in range(30)]
    assert [p for page in pages for p in paths(page)] == files[:30]
    assert r.hkeys(keys.flush_leases(cid)) in ([b"consumer:default"], ["consumer:default"])
    assert r.hlen(keys.flush_acked(cid)) == r.zcard(keys.flush_acked_until(cid)) == 29
    # the API saw page 5's caller gone after the next call acknowledged it: it comes back
    assert release(r, cid, pages[5]["lease"])
    assert paths(flush(r, cid, 1, lease_seconds=100, now=31)) == files[5:6]
    # past their time the acknowledged leases are forgotten, and cannot be released
    flush(r, cid, 1, lease_seconds=100, now=200)  # the live lease lapsed too: handed out
    assert r.hlen(keys.flush_acked(cid)) == r.zcard(keys.flush_acked_until(cid)) == 0
    assert not release(r, cid, pages[7]["lease"])


def test_status_words_only_advance(r: redis.Redis) -> None:
    runs = ExtractionRuns(r)
    crawls = CrawlStore(r)
    cid = crawls.create(CrawlSpec(dirs=["/data"]), "alice")
    runs.start(cid, "alice", {"executor": "local", "local_mdata_path": "/tmp/x"}, {})
    with pytest.raises(ExtractionExists):
        runs.start(cid, "alice", {"executor": "local"}, {})
    assert runs.advance(cid, XtractStatus.EXTRACTING)
    assert not runs.advance(cid, XtractStatus.SCHEDULED)
    assert runs.status_word(cid) == XtractStatus.EXTRACTING


def document(fid: str) -> Document:
    return {
        "family_id": fid,
        "files": [{"path": f"/data/{fid}", "size": 1, "extension": "", "mtime": 1.0}],
        "groups": [],
        "metadata": {},
        "errors": [],
        "extractors": {"tabular": {"state": "success", "seconds": 0.5}},
        "unknown": [],
        "extracted_at": 1.0,
    }


def test_a_batch_recorded_twice_counts_once_and_pages_cover_it(r: redis.Redis) -> None:
    runs = ExtractionRuns(r)
    cid = CrawlStore(r).create(CrawlSpec(dirs=["/data"]), "alice")
    runs.start(cid, "alice", {"executor": "local"}, {})
    docs = [document(f"f{i}") for i in range(5)]
    assert runs.results.record(cid, docs, [True] * 5) == {d["family_id"] for d in docs}
    assert runs.results.record(cid, docs, [True] * 5) == set()
    fx = runs.status(cid, "alice")["xtract_counters"]["fx"]
    assert fx["success"] == 5 and fx["failed"] == 0
    got, after = [], None
    while True:
        page = runs.results.page(cid, after, 2)
        got += [d["family_id"] for d in page["documents"]]
        if page["count"] < 2:
            break
        after = page["next"]
    assert got == [d["family_id"] for d in docs]
    with pytest.raises(BadRequest, match="bad cursor"):
        runs.results.page(cid, "abc:1", 2)


@pytest.mark.parametrize("text", ["abc:1", "1-0", "1-0:x", "1-0:-1", ":", "1-0:1:2"])
def test_a_malformed_cursor_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Cursor.parse(text)


def test_a_cursor_reads_back_what_it_wrote() -> None:
    assert Cursor.parse(str(Cursor("17-3", 4))) == Cursor("17-3", 4)
    assert Cursor.parse("17-3 4") == Cursor("17-3", 4)  # as older releases stored it
    assert Cursor.parse(None) == Cursor()


def test_creating_a_group_twice_is_harmless(r: redis.Redis) -> None:
    create_group(r, "xtract:test:stream", "g")
    create_group(r, "xtract:test:stream", "g")
    assert [g["name"] for g in r.xinfo_groups("xtract:test:stream")] == ["g"]


def test_a_crawl_whose_only_folder_could_not_be_read_fails(r: redis.Redis) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    entry, _ = take_frontier(r, cid)
    commit = Commit(cid, "w1", done=1, per_entry=64, unreadable=1)
    commit.errors = [{"path": "/data", "error": "PermissionError: Permission denied"}]
    assert store.commit(entry, commit, []) == 0
    status = store.status(cid, "alice")
    assert status["status"] == CrawlStatus.FAILED
    assert "could be read" in status["message"]


def test_a_crawl_with_an_unreadable_subfolder_still_completes(r: redis.Redis) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    entry, _ = take_frontier(r, cid)
    commit, batches = listing(cid, "/data", ["a.csv"])
    commit.subdirs = [("/data/locked", "/data/locked")]
    store.commit(entry, commit, batches)
    entry, _ = take_frontier(r, cid)
    store.commit(entry, Commit(cid, "w1", done=1, per_entry=64, unreadable=1), [])
    assert store.status(cid, "alice")["status"] == CrawlStatus.COMPLETE


def test_the_files_of_an_entry_are_the_files_of_its_families() -> None:
    # flush renders rendered_files, extraction reads families_of: the two must agree on
    # every file
    from xtract_service.crawl.families import families_of, normalize, rendered_files

    files = [["a.csv", 1, 1.0], ["b.txt", 2, 2.0], ["c.h5", 3, 3.0], ["d", 4, 4.0, "ZP8="]]
    grouped = normalize([[[[2, 0], "tabular"], [[1], None]], [[[3, 2], "hdf5"]]], len(files))
    blocks = make_blocks("/data/x", files, grouped, 1000) + make_blocks(
        "/data/y/", files, "per_file", 2
    )
    for payload, _ in pack(blocks, 1000):
        expected = [
            {**rec, "family_id": fam["family_id"]}
            for fam in families_of(payload)
            for rec in fam["files"]
        ]
        text, count = rendered_files(payload, 0, 1000)
        assert orjson.loads(b"[" + text + b"]") == expected
        assert count == len(expected) == 8
