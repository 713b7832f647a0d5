"""Keys ready for a Redis Cluster: every key of a crawl, of an offload and of an owner
is in one hash slot; the scripts write one slot each; a Redis an older version used is
renamed to the tagged layout once, consumer groups and all; running work a crash left
off the active sets is put back, and ended work is not."""

from __future__ import annotations

import json
import re
import time

import redis
from redis.crc import key_slot

from xtract_sdk.status import CrawlStatus, XtractStatus
from xtract_service import actives, keys, scripts
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import CrawlStore
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.upgrade import upgrade

from .test_stores import document, listing, take_frontier

CID, OID = "0c6a2f4e-1111-4222-8333-944455556666", "9f0e1d2c-aaaa-4bbb-8ccc-dddd00001111"


def slots(names: list[str]) -> set[int]:
    return {key_slot(n.encode()) for n in names}


def test_each_crawl_offload_and_owner_keeps_its_keys_in_one_slot() -> None:
    assert len(slots(keys.of_crawl(CID))) == 1
    assert len(slots(keys.of_offload(OID))) == 1
    owner = [
        fn("alice") for fn in (keys.owner_crawls, keys.content, keys.owner_usage, keys.globus_rate)
    ]
    assert len(slots([*owner, keys.containers("alice", OID)])) == 1
    assert slots(keys.of_crawl(CID)) != slots(keys.of_crawl(OID))  # tags differ: spread


def test_every_script_declares_keys_of_one_slot_only() -> None:
    for name in scripts.names():
        patterns = set(scripts.header(name).keys.values())
        tags = {p.split(":{")[0] if ":{" in p else p for p in patterns}
        assert len(tags) == 1, (name, patterns)  # all crawl:{id}..., or one global key


def as_first_layout(r: redis.Redis) -> None:
    """Rename every tagged key back to the first layout's name (no braces)."""
    for name in list(r.scan_iter(match="xtract:*")):
        old = re.sub(r"\{([^}]*)\}", r"\1", name)
        if old != name:
            r.rename(name, old)
    r.delete(keys.SCHEMA)


def test_a_redis_of_the_first_layout_is_renamed_once_groups_and_all(r: redis.Redis) -> None:
    store = CrawlStore(r)
    cid = store.create(CrawlSpec(dirs=["/data"]), "alice")
    as_first_layout(r)
    assert not r.exists(keys.crawl(cid)) and r.exists(f"xtract:crawl:{cid}:dirs")
    old = [n for n in r.scan_iter(match="xtract:*") if n.split(":")[1] in ("crawl", "owner")]
    assert len(old) >= 4

    assert upgrade(r) == len(old) and upgrade(r) == 0  # every one, once
    assert r.get(keys.SCHEMA) == "2"
    assert store.status(cid, "alice")["status"] == CrawlStatus.INITIALIZING
    assert cid in [text for text in r.zrange(keys.owner_crawls("alice"), 0, -1)]
    entry, dirs = take_frontier(r, cid)  # the consumer group came along with its stream
    assert dirs == ["/data"]
    commit, batches = listing(cid, "/data", ["a.csv"])
    assert store.commit(entry, commit, batches) == 0
    assert store.status(cid, "alice")["status"] == CrawlStatus.COMPLETE
    assert cid not in r.smembers(keys.ACTIVE)
    assert not [n for n in r.scan_iter(match="xtract:crawl:*") if "{" not in n]


def test_running_work_left_off_the_active_sets_is_put_back(r: redis.Redis) -> None:
    store = CrawlStore(r)
    running = store.create(CrawlSpec(dirs=["/data"]), "alice")
    ended = store.create(CrawlSpec(dirs=["/data"]), "alice")
    store.cancel(ended, "alice")
    fresh = store.create(CrawlSpec(dirs=["/data"]), "bob")
    r.hset(keys.xtract(running), mapping={"status": XtractStatus.IN_SCHEDULING.value})
    r.hset(keys.xtract(ended), mapping={"status": XtractStatus.COMPLETED.value})
    r.delete(keys.ACTIVE, keys.XTRACT_ACTIVE)  # as if killed between the two writes
    later = time.time() + actives.GRACE_SECONDS + 1

    assert actives.repair(r, now=time.time()) == []  # too young: may be being created
    assert actives.repair(r, now=later) == sorted([running, fresh])
    assert r.smembers(keys.ACTIVE) == {running, fresh}
    assert r.smembers(keys.XTRACT_ACTIVE) == {running}
    assert actives.repair(r, now=later) == []  # nothing left to put back


def test_a_recorded_batch_counts_its_bytes_to_the_owner_outside_the_script(
    r: redis.Redis,
) -> None:
    runs = ExtractionRuns(r)
    cid = CrawlStore(r).create(CrawlSpec(dirs=["/data"]), "alice")
    runs.start(cid, "alice", {"executor": "local"}, {})
    docs = [document("f1"), document("f2")]
    assert runs.results.record(cid, docs, [True, True], "alice") == {"f1", "f2"}
    assert runs.results.record(cid, docs, [True, True], "alice") == set()  # once
    usage = int(r.hget(keys.owner_usage("alice"), "metadata_bytes") or 0)
    kept = int(r.hget(keys.xtract(cid), "bytes") or 0)
    assert usage == kept == sum(len(json.dumps(d)) for d in docs)
