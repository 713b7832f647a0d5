"""The owner's content cache: extractor results by content id, so content read once
(in any crawl of the owner, by this service's own extraction processes) is not read
again. Answers from outside (a Compute endpoint, Parsl workers) never enter it: the
caller chooses the endpoint, and it must not decide what later reads find here.

Keys are ``"<content id> <extractor>@<version>"`` (see
:class:`xtract_extractors.batch.ContentCache`); a new extractor version misses. One hash
per owner, never shared between owners: identical bytes of another owner still cost
their own read. Bounded: a result over ``MAX_RESULT_BYTES`` is not kept, and an owner's
cache stops growing at ``MAX_ENTRIES``.
"""

from __future__ import annotations

from typing import Any

import orjson
import redis

from xtract_service import keys

MAX_RESULT_BYTES = 64 * 1024
MAX_ENTRIES = 1_000_000


class RedisContentCache:
    """An owner's content cache in Redis, handed to in-process extraction workers."""

    def __init__(self, r: redis.Redis, owner: str) -> None:
        self.r, self.key = r, keys.content(owner)

    def get(self, wanted: list[str]) -> dict[str, Any]:
        if not wanted:
            return {}
        raw = self.r.hmget(self.key, wanted)
        return {k: orjson.loads(v) for k, v in zip(wanted, raw, strict=True) if v is not None}

    def put(self, results: dict[str, Any]) -> None:
        opts = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
        kept = {k: orjson.dumps(v, default=str, option=opts) for k, v in results.items()}
        kept = {k: v for k, v in kept.items() if len(v) <= MAX_RESULT_BYTES}
        if kept and self.r.hlen(self.key) < MAX_ENTRIES:
            self.r.hset(self.key, mapping=kept)  # type: ignore[arg-type]
