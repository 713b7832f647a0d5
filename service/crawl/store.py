"""The crawl store: creating crawls, committing listings, reading status, cancelling.

All writes a worker makes for one frontier entry (new sub-directories, families,
counters, errors, the acknowledgement) happen in one Lua script, so they land together
or not at all. The script first acknowledges the entry; if another worker already did
(a redelivered entry finished twice), it writes nothing, so no file is counted twice.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis

from xtract_service.crawl import keys
from xtract_service.crawl.spec import CrawlSpec

TERMINAL = ("complete", "failed", "cancelled")
COUNTERS = (
    "files",
    "bytes",
    "groups",
    "families",
    "dirs_done",
    "dirs_pending",
    "errors",
    "links_skipped",
    "dirs_revisited",
)

# KEYS: crawl hash, dirs stream, families stream, errors list, seen set, active set,
#       workers hash
# ARGV: entry id, dirs done, files, bytes, groups, families, links skipped, subdirs json,
#       dirs per entry, error cap, now, crawl id, errors json, worker name,
#       then (families json, n) pairs
_COMMIT = """
if redis.call('XACK', KEYS[2], 'crawlers', ARGV[1]) == 0 then return -1 end
redis.call('XDEL', KEYS[2], ARGV[1])
local done = tonumber(ARGV[2])
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'initializing' then
  redis.call('HSET', KEYS[1], 'status', 'crawling', 'started_at', ARGV[11])
  status = 'crawling'
end
if status ~= 'crawling' then
  return redis.call('HINCRBY', KEYS[1], 'dirs_pending', -done)
end
local subdirs = cjson.decode(ARGV[8])
local per = tonumber(ARGV[9])
local chunk, added, revisited = {}, 0, 0
for _, pair in ipairs(subdirs) do
  if redis.call('SADD', KEYS[5], pair[1]) == 1 then
    chunk[#chunk + 1] = pair[2]
    added = added + 1
    if #chunk >= per then
      redis.call('XADD', KEYS[2], '*', 'dirs', cjson.encode(chunk))
      chunk = {}
    end
  else
    revisited = revisited + 1
  end
end
if #chunk > 0 then redis.call('XADD', KEYS[2], '*', 'dirs', cjson.encode(chunk)) end
redis.call('HINCRBY', KEYS[1], 'dirs_pending', added)
redis.call('HINCRBY', KEYS[7], ARGV[14], done)
for i = 15, #ARGV, 2 do
  redis.call('XADD', KEYS[3], '*', 'families', ARGV[i], 'n', ARGV[i + 1])
end
redis.call('HINCRBY', KEYS[1], 'files', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'bytes', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'groups', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'families', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'links_skipped', ARGV[7])
redis.call('HINCRBY', KEYS[1], 'dirs_revisited', revisited)
redis.call('HINCRBY', KEYS[1], 'dirs_done', done)
local errs = cjson.decode(ARGV[13])
if #errs > 0 then
  redis.call('HINCRBY', KEYS[1], 'errors', #errs)
  for _, e in ipairs(errs) do redis.call('LPUSH', KEYS[4], cjson.encode(e)) end
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[10]) - 1)
end
local pending = redis.call('HINCRBY', KEYS[1], 'dirs_pending', -done)
if pending <= 0 then
  redis.call('HSET', KEYS[1], 'status', 'complete', 'finished_at', ARGV[11], 'message', 'OK')
  redis.call('SREM', KEYS[6], ARGV[12])
end
return pending
"""

# KEYS: crawl hash, active set, dirs stream, secrets; ARGV: status, message, now, crawl id
_STOP = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'complete' or status == 'failed' or status == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'message', ARGV[2], 'finished_at', ARGV[3])
redis.call('SREM', KEYS[2], ARGV[4])
redis.call('DEL', KEYS[3], KEYS[4])
return 1
"""


class CrawlNotFound(LookupError):
    """No crawl with this id belongs to the caller."""


class CrawlStore:
    """Crawl state in Redis. Thread-safe: it holds only a connection pool."""

    def __init__(self, r: redis.Redis, *, dirs_per_entry: int = 64, error_cap: int = 1000) -> None:
        self.r = r
        self.dirs_per_entry = dirs_per_entry
        self.error_cap = error_cap
        self._commit = r.register_script(_COMMIT)
        self._stop = r.register_script(_STOP)

    # -- creating -------------------------------------------------------------------
    def create(self, spec: CrawlSpec, owner: str, secrets: dict[str, str] | None = None) -> str:
        """Record a crawl and put its root directories on the frontier."""
        crawl_id = str(uuid.uuid4())
        now = time.time()
        per = 1 if spec.repo_type == "globus" else self.dirs_per_entry
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(
            keys.crawl(crawl_id),
            mapping={
                "crawl_id": crawl_id,
                "owner": owner,
                "status": "initializing",
                "message": "OK",
                "spec": spec.model_dump_json(),
                "dirs_per_entry": per,
                "created_at": now,
                **dict.fromkeys(COUNTERS, 0),
                "dirs_pending": len(spec.dirs),
            },
        )
        if secrets:
            pipe.hset(keys.secrets(crawl_id), mapping=secrets)
        pipe.xgroup_create(keys.dirs(crawl_id), keys.DIR_GROUP, id="0", mkstream=True)
        pipe.sadd(keys.seen(crawl_id), *spec.dirs)
        for i in range(0, len(spec.dirs), per):
            pipe.xadd(keys.dirs(crawl_id), {"dirs": json.dumps(spec.dirs[i : i + per])})
        pipe.zadd(keys.owner_crawls(owner), {crawl_id: now})
        pipe.sadd(keys.ACTIVE, crawl_id)
        pipe.execute()
        return crawl_id

    # -- committing a listing -------------------------------------------------------
    def commit(
        self,
        crawl_id: str,
        entry_id: str,
        *,
        dirs_done: int,
        subdirs: list[tuple[str, str]],
        family_batches: list[tuple[str, int]],
        files: int,
        nbytes: int,
        groups: int,
        families: int,
        links_skipped: int,
        errors: list[dict[str, str]],
        dirs_per_entry: int,
        worker: str,
    ) -> int:
        """Write one frontier entry's results atomically; returns directories still
        pending, or -1 if the entry had already been committed by another worker."""
        args: list[Any] = [
            entry_id,
            dirs_done,
            files,
            nbytes,
            groups,
            families,
            links_skipped,
            json.dumps(subdirs),
            dirs_per_entry,
            self.error_cap,
            time.time(),
            crawl_id,
            json.dumps(errors),
            worker,
        ]
        for payload, n in family_batches:
            args += [payload, n]
        k = [
            keys.crawl(crawl_id),
            keys.dirs(crawl_id),
            keys.families(crawl_id),
            keys.errors(crawl_id),
            keys.seen(crawl_id),
            keys.ACTIVE,
            keys.workers(crawl_id),
        ]
        return int(self._commit(keys=k, args=args))

    # -- reading --------------------------------------------------------------------
    def get(self, crawl_id: str, owner: str | None) -> dict[str, str]:
        """The crawl's hash; raises CrawlNotFound unless it exists and ``owner`` owns it
        (``owner=None`` is for workers, which serve every owner)."""
        try:
            uuid.UUID(crawl_id)
        except ValueError:
            raise CrawlNotFound(f"{crawl_id!r} is not a crawl id (crawl ids are UUIDs)") from None
        raw = self.r.hgetall(keys.crawl(crawl_id))
        h = {k.decode(): v.decode() for k, v in raw.items()}
        if not h or (owner is not None and h.get("owner") != owner):
            raise CrawlNotFound(f"no crawl {crawl_id} belongs to you")
        return h

    def status(self, crawl_id: str, owner: str | None, error_samples: int = 20) -> dict[str, Any]:
        """The published status shape: ``{crawl_id, status, message, data: {...}}``."""
        h = self.get(crawl_id, owner)
        spec = json.loads(h["spec"])
        samples = [
            json.loads(e) for e in self.r.lrange(keys.errors(crawl_id), 0, error_samples - 1)
        ]
        created = float(h["created_at"])
        end = float(h["finished_at"]) if h.get("finished_at") else time.time()
        counts = {c: int(h.get(c, 0)) for c in COUNTERS}
        message = h.get("message", "OK")
        if message == "OK" and counts["errors"]:
            message = (
                f"{counts['errors']} folders or files could not be read; see data.error_samples"
            )
        return {
            "crawl_id": crawl_id,
            "status": h["status"],
            "message": message,
            "data": {
                "files_crawled": counts["files"],
                "bytes_crawled": counts["bytes"],
                "groups_crawled": counts["groups"],
                "families_crawled": counts["families"],
                "dirs_crawled": counts["dirs_done"],
                "dirs_pending": max(counts["dirs_pending"], 0),
                "errors": counts["errors"],
                "error_samples": samples,
                "links_skipped": counts["links_skipped"],
                "workers": {
                    k.decode(): int(v) for k, v in self.r.hgetall(keys.workers(crawl_id)).items()
                },
                "dirs_revisited": counts["dirs_revisited"],
                "repo_type": spec["repo_type"],
                "dirs": spec["dirs"],
                "grouper": spec["grouper"],
                "created_at": created,
                "finished_at": float(h["finished_at"]) if h.get("finished_at") else None,
                "elapsed_seconds": round(end - created, 3),
            },
        }

    def list(self, owner: str, limit: int = 100) -> list[dict[str, Any]]:
        """The owner's crawls, newest first."""
        ids = [i.decode() for i in self.r.zrevrange(keys.owner_crawls(owner), 0, limit - 1)]
        pipe = self.r.pipeline(transaction=False)
        for cid in ids:
            pipe.hmget(keys.crawl(cid), "status", "spec", "created_at", "files")
        out = []
        for cid, (status, spec, created, files) in zip(ids, pipe.execute(), strict=True):
            if status is None:
                continue
            s = json.loads(spec)
            out.append(
                {
                    "crawl_id": cid,
                    "status": status.decode(),
                    "repo_type": s["repo_type"],
                    "dirs": s["dirs"],
                    "files_crawled": int(files or 0),
                    "created_at": float(created),
                }
            )
        return out

    def spec(self, crawl_id: str) -> tuple[CrawlSpec, dict[str, str], int]:
        """What a worker needs to list this crawl: spec, secrets, dirs per entry."""
        spec_json, per = self.r.hmget(keys.crawl(crawl_id), "spec", "dirs_per_entry")
        if spec_json is None:
            raise CrawlNotFound(crawl_id)
        secrets = {
            k.decode(): v.decode() for k, v in self.r.hgetall(keys.secrets(crawl_id)).items()
        }
        return CrawlSpec.model_validate_json(spec_json), secrets, int(per or 1)

    # -- stopping -------------------------------------------------------------------
    def cancel(self, crawl_id: str, owner: str) -> dict[str, Any]:
        """Stop a running crawl. Files already found stay flushable; a finished crawl
        is left as it is."""
        self.get(crawl_id, owner)
        k = [keys.crawl(crawl_id), keys.ACTIVE, keys.dirs(crawl_id), keys.secrets(crawl_id)]
        if self._stop(keys=k, args=["cancelled", "cancelled by its owner", time.time(), crawl_id]):
            from xtract_service.notify import publish

            publish(self.r, crawl_id, "crawl.cancelled")
        return self.status(crawl_id, owner)

    def fail(self, crawl_id: str, message: str) -> None:
        k = [keys.crawl(crawl_id), keys.ACTIVE, keys.dirs(crawl_id), keys.secrets(crawl_id)]
        if self._stop(keys=k, args=["failed", message, time.time(), crawl_id]):
            from xtract_service.notify import publish

            publish(self.r, crawl_id, "crawl.failed", reason=message)
