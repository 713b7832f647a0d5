"""Per-owner quotas, so one owner cannot fill the service for everyone: crawls running
at once (``XTRACT_MAX_RUNNING_CRAWLS``), crawls kept (``XTRACT_MAX_STORED_CRAWLS``) and
bytes of metadata kept (``XTRACT_MAX_METADATA_BYTES``). Going over one is a 429 that
says which and how to get back under it (finished crawls are forgotten after
``XTRACT_RETENTION_DAYS``, or at once with ``DELETE /v1/crawls/{id}?forget=true``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import redis

from xtract_sdk.status import CrawlStatus
from xtract_service import crawl_record, keys
from xtract_service.errors import TooMany
from xtract_service.redis_client import number, text
from xtract_service.settings import Settings

SEARCH_SLOT_SECONDS = 60
FORGET = "forget finished crawls with DELETE /v1/crawls/{id}?forget=true"


CREATING_SECONDS = 60.0  # how long a listed crawl without a record counts as being created


def check_crawl_quota(r: redis.Redis, owner: str, settings: Settings) -> None:
    """TooMany if ``owner`` may not start another crawl now."""
    listed: list[tuple[Any, float]] = list(
        r.zrange(keys.owner_crawls(owner), 0, -1, withscores=True)  # type: ignore[arg-type]
    )
    ids = [text(i) for i, _ in listed]
    if len(ids) >= settings.max_stored_crawls:
        raise TooMany(
            f"you keep {len(ids)} crawls, the most this service keeps per owner; {FORGET}"
        )
    # a crawl listed but with no record yet is being created (its record is the next
    # write, in its own slot): running, unless so old that its creation died
    young = time.time() - CREATING_SECONDS
    ended = CrawlStatus.terminal()
    running = 0
    for status, (_, at) in zip(crawl_record.statuses(r, ids), listed, strict=True):
        if (status is None and float(at) > young) or (status is not None and status not in ended):
            running += 1
    if running >= settings.max_running_crawls:
        raise TooMany(
            f"you have {running} crawls running, the most at once; wait for one to end "
            "or cancel one"
        )


def check_metadata_quota(r: redis.Redis, owner: str, settings: Settings) -> None:
    """TooMany if ``owner`` keeps as much metadata as the service allows."""
    kept = number(r.hget(keys.owner_usage(owner), "metadata_bytes"))
    if kept >= settings.max_metadata_bytes:
        raise TooMany(f"you keep {kept} bytes of metadata, the most per owner; {FORGET}")


@contextmanager
def _slot(r: redis.Redis, key: str, limit: int, what: str) -> Iterator[None]:
    """One of ``limit`` concurrent pieces of work counted at ``key`` (TooMany beyond
    them), for as long as the block runs. The count expires a minute after the last
    began, so an API process killed mid-work gives its slots back."""
    pipe = r.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, SEARCH_SLOT_SECONDS)
    running, _ = pipe.execute()
    try:
        if int(running) > limit:
            raise TooMany(
                f"you have {int(running) - 1} {what} running, the most at once; "
                "wait for one to answer",
                retry_after=1,
            )
        yield
    finally:
        r.decr(key)


def search_slot(r: redis.Redis, owner: str, settings: Settings) -> AbstractContextManager[None]:
    """One of the owner's ``XTRACT_SEARCHES_PER_OWNER`` concurrent metadata searches."""
    return _slot(r, keys.owner_searches(owner), settings.searches_per_owner, "metadata searches")


def flush_slot(
    r: redis.Redis, owner: str, settings: Settings, capability: bool
) -> AbstractContextManager[None]:
    """One of ``XTRACT_FLUSHES_PER_OWNER`` concurrent flushes of the owner's crawls (a
    flush answer holds up to ``XTRACT_MAX_FLUSH`` records in memory); calls holding only
    a crawl id count apart, so they cannot hold up the owner's own."""
    key = keys.owner_capability_flushes(owner) if capability else keys.owner_flushes(owner)
    return _slot(r, key, settings.flushes_per_owner, "flushes")
