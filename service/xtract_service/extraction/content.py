"""The owner's content cache: extractor results by content id, so content read once
(in any crawl of the owner, on any endpoint) is not read again.

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


def answers_in(docs: list[Any], params: dict[str, Any]) -> dict[str, Any]:
    """The cache entries a batch's documents hold: each file's extractor answers (those
    run without parameters) by its content id, as ``extract_batch`` keeps them. For
    batches that ran where the cache is out of reach (a Compute endpoint, Parsl), so
    what they read is not read again anywhere else."""
    from xtract_extractors.batch import content_key
    from xtract_extractors.registry import UnknownExtractor

    out: dict[str, Any] = {}
    for doc in docs:
        for path, answers in (doc.get("metadata") or {}).items():
            content_id = (answers.get("filetype") or {}).get("content_id")
            if not content_id:
                continue
            for name, result in answers.items():
                if name == "filetype" or params.get(name):
                    continue
                try:
                    key = content_key(content_id, name)
                except UnknownExtractor:  # a plug-in this host does not have
                    continue
                out[str(key)] = {"path": path, "result": result}
    return out


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
