"""Read-only sharing: an owner lets other Globus identities, or the members of a Globus
group, read one crawl: its status, extraction status, metadata pages, offload statuses
and live events. Readers never change anything (flush hands each file out once, so it
stays the owner's, as do extraction, retry, clear, offload, cancel and forgetting).

Shares are kept in ``crawl:{id}:shares`` as ``identity:<id>`` and ``group:<id>``.
Group membership is asked of Globus Groups with a dependent token of the reader, only
when the crawl is shared with a group, and cached like introspection. A reader who is
neither owner nor shared with gets the same 404 as for a crawl that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import redis

from xtract_service import keys
from xtract_service.auth.base import Caller
from xtract_service.crawl.store import CrawlNotFound, CrawlStore
from xtract_service.errors import BadRequest
from xtract_service.redis_client import text

MAX_SHARES = 100


def _ids(values: list[str], what: str) -> list[str]:
    out = []
    for v in values:
        try:
            out.append(str(uuid.UUID(v)))
        except ValueError:
            raise BadRequest(f"{what}: {v!r} is not a Globus {what[:-1]} id", "bad_share") from None
    return out


def shares_of(r: redis.Redis, crawl_id: str) -> dict[str, list[str]]:
    members = sorted(text(m) for m in r.smembers(keys.shares(crawl_id)))
    return {
        "identities": [m.split(":", 1)[1] for m in members if m.startswith("identity:")],
        "groups": [m.split(":", 1)[1] for m in members if m.startswith("group:")],
    }


def _members(identities: list[str], groups: list[str]) -> list[str]:
    return [f"identity:{i}" for i in _ids(identities, "identities")] + [
        f"group:{g}" for g in _ids(groups, "groups")
    ]


def share(
    crawls: CrawlStore, crawl_id: str, owner: str, identities: list[str], groups: list[str]
) -> dict[str, Any]:
    """Let ``identities`` and members of ``groups`` read the crawl (owner only)."""
    crawls.get(crawl_id, owner)
    members = _members(identities, groups)
    r = crawls.r
    if members:
        if r.scard(keys.shares(crawl_id)) + len(members) > MAX_SHARES:
            raise BadRequest(f"a crawl is shared with at most {MAX_SHARES} readers", "bad_share")
        r.sadd(keys.shares(crawl_id), *members)
    return {"crawl_id": crawl_id, **shares_of(r, crawl_id)}


def unshare(
    crawls: CrawlStore, crawl_id: str, owner: str, identities: list[str], groups: list[str]
) -> dict[str, Any]:
    """Stop sharing with ``identities`` and ``groups`` (owner only)."""
    crawls.get(crawl_id, owner)
    members = _members(identities, groups)
    if members:
        crawls.r.srem(keys.shares(crawl_id), *members)
    return {"crawl_id": crawl_id, **shares_of(crawls.r, crawl_id)}


def read_as(
    crawls: CrawlStore,
    crawl_id: str,
    caller: Caller,
    groups_of: Callable[[Caller], set[str]],
) -> str:
    """The owner to read the crawl as: its owner, if ``caller`` is them or is shared
    with; else CrawlNotFound, as if there were no such crawl."""
    owner = crawls.owner_of(crawl_id)
    if owner == caller.owner:
        return owner
    shared = shares_of(crawls.r, crawl_id)
    if caller.owner in shared["identities"]:
        return owner
    if shared["groups"] and set(shared["groups"]) & groups_of(caller):
        return owner
    raise CrawlNotFound(f"no crawl {crawl_id} belongs to you")
