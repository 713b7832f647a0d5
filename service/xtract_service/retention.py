"""Forgetting crawls: everything a crawl left in Redis (its frontier, families, events,
extraction state, results, offloads, sealed secrets) and the files the service wrote
for it in its own home. A crawl is forgotten when its owner asks
(``DELETE /v1/crawls/{id}?forget=true``) or, once finished,
``XTRACT_RETENTION_DAYS`` after it ended (the offload worker sweeps every ten minutes).
Documents and exports written to a caller's own folders are theirs and are left alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import time

import redis

from xtract_sdk.status import CrawlStatus, OffloadStatus, XtractStatus
from xtract_service import crawl_record, keys
from xtract_service.access import service_home
from xtract_service.errors import Conflict
from xtract_service.redis_client import hash_of, number, text
from xtract_service.settings import Settings
from xtract_service.streams import Loop

log = logging.getLogger(__name__)
SWEEP_SECONDS = 600.0


def busy(r: redis.Redis, crawl_id: str) -> str | None:
    """What of the crawl still runs (``None``: nothing)."""
    if crawl_record.status(r, crawl_id) not in CrawlStatus.terminal():
        return "the crawl"
    run = text(r.hget(keys.xtract(crawl_id), "status"))
    if run and run not in XtractStatus.terminal():
        return "its extraction"
    for oid in r.zrange(keys.crawl_offloads(crawl_id), 0, -1):
        if text(r.hget(keys.offload(text(oid)), "status")) not in OffloadStatus.terminal():
            return "an offload"
    return None


def forget_crawl(r: redis.Redis, crawl_id: str, settings: Settings) -> None:
    """Delete everything of a finished crawl; Conflict if part of it still runs."""
    running = busy(r, crawl_id)
    if running:
        raise Conflict(f"{running} of {crawl_id} still runs; cancel it first", "still_running")
    owner = crawl_record.owner(r, crawl_id)
    run = hash_of(r, keys.xtract(crawl_id))
    oids = [text(o) for o in r.zrange(keys.crawl_offloads(crawl_id), 0, -1)]
    # one write per hash slot, the crawl's first: forgetting again after a crash between
    # them finds no record and its usage is not given back twice
    r.delete(*keys.of_crawl(crawl_id))
    pipe = r.pipeline(transaction=False)
    for oid in oids:
        pipe.delete(*keys.of_offload(oid))
    pipe.srem(keys.ACTIVE, crawl_id)
    pipe.srem(keys.XTRACT_ACTIVE, crawl_id)
    pipe.srem(keys.INDEX_PENDING, crawl_id)
    if owner:
        pipe.zrem(keys.owner_crawls(owner), crawl_id)
        if number(run.get("bytes")):
            pipe.hincrby(keys.owner_usage(owner), "metadata_bytes", -number(run["bytes"]))
    pipe.execute()
    home = service_home(settings)
    for folder in [
        os.path.join(home, "metadata", crawl_id),
        os.path.join(home, "index", crawl_id),
    ] + [os.path.join(home, "offloads", oid) for oid in oids]:
        shutil.rmtree(folder, ignore_errors=True)  # never follows links out


def sweep(r: redis.Redis, settings: Settings, now: float | None = None) -> int:
    """Forget finished crawls older than the retention time; returns how many."""
    if settings.retention_days <= 0:
        return 0
    cutoff = (now or time.time()) - settings.retention_days * 86400
    forgotten = 0
    for owner_key in r.scan_iter(match=keys.OWNER_CRAWLS_PATTERN, count=100):
        for raw in r.zrangebyscore(owner_key, "-inf", cutoff):
            cid = text(raw)
            ended = crawl_record.finished_at(r, cid)
            last = max(
                ended or 0,
                float(text(r.hget(keys.xtract(cid), "finished_at")) or 0),
            )
            if ended is None or last > cutoff or busy(r, cid):
                continue
            try:
                forget_crawl(r, cid, settings)
                forgotten += 1
            except Conflict:
                continue
    if forgotten:
        log.info("forgot %d crawls older than %g days", forgotten, settings.retention_days)
    return forgotten


class Sweeper(Loop):
    """The ``retention`` worker role: sweeps every ``SWEEP_SECONDS`` (one is enough per
    service; two only sweep twice)."""

    retry_on = (redis.RedisError,)

    def __init__(self, r: redis.Redis, name: str, settings: Settings) -> None:
        super().__init__(r, name)
        self.settings = settings
        self._swept = -SWEEP_SECONDS

    def step(self) -> bool:
        if time.monotonic() - self._swept < SWEEP_SECONDS:
            return False
        self._swept = time.monotonic()
        forgotten = sweep(self.r, self.settings)
        if forgotten:
            log.info("retention: forgot %d crawls", forgotten)
        return True

    def pause(self) -> None:
        self.stop.wait(1.0)
