"""The service-wide sets of work going on (``crawls:active`` for the crawl workers,
``xtracts:active`` for the orchestrators), kept true though they are written apart
from the crawls they name.

A crawl's keys share one hash slot (:mod:`xtract_service.keys`), so its scripts and
transactions run on one node of a Redis Cluster; the active sets sit in slots of their
own and are written just after the crawl's own write (creating a crawl, reopening a
run). A process killed between the two leaves a crawl that runs but is on no set, and
nobody would serve it: :func:`repair` puts such crawls and runs back, and the crawl
workers call it every :data:`REPAIR_SECONDS`. Taking ended work off a set needs no
repair: whoever reads a set drops what has ended.
"""

from __future__ import annotations

import time

import redis

from xtract_sdk.status import CrawlStatus, XtractStatus
from xtract_service import crawl_record, keys
from xtract_service.redis_client import members, text

REPAIR_SECONDS = 60.0  # how often a crawl worker looks
RECENT_SECONDS = 7 * 86400  # crawls created this recently are looked at
GRACE_SECONDS = 30.0  # a crawl younger than this may still be being created


def repair(r: redis.Redis, now: float | None = None) -> list[str]:
    """Put running crawls and extraction runs that are on no active set back on it;
    returns the crawl ids put back. Looks at every owner's crawls created in the last
    :data:`RECENT_SECONDS`, older than :data:`GRACE_SECONDS`."""
    now = time.time() if now is None else now
    crawling, extracting = members(r, keys.ACTIVE), members(r, keys.XTRACT_ACTIVE)
    candidates: list[str] = []
    for owner_key in r.scan_iter(match=keys.OWNER_CRAWLS_PATTERN, count=100):
        found = r.zrangebyscore(owner_key, now - RECENT_SECONDS, now - GRACE_SECONDS)
        candidates += [text(c) for c in found]
    if not candidates:
        return []
    words = crawl_record.statuses(r, candidates)
    pipe = r.pipeline(transaction=False)
    for cid in candidates:
        pipe.hget(keys.xtract(cid), "status")
    runs = [text(w) for w in pipe.execute()]
    ended_crawl, ended_run = CrawlStatus.terminal(), XtractStatus.terminal()
    put_back = []
    for cid, word, run in zip(candidates, words, runs, strict=True):
        if word is not None and word not in ended_crawl and cid not in crawling:
            r.sadd(keys.ACTIVE, cid)
            put_back.append(cid)
        if run and run not in ended_run and cid not in extracting:
            r.sadd(keys.XTRACT_ACTIVE, cid)
            put_back.append(cid)
    return sorted(set(put_back))
