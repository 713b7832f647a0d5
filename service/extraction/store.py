"""Extraction state in Redis: starting a run, its status word and counters, recording
each family's metadata exactly once, and paging through the results.

Recording is one Lua script per batch: a family's state is set with ``HSETNX``, and only
the families set there have their documents added to the results stream and counted,
so a batch delivered twice (after an orchestrator died) is recorded once.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from xtract_service.crawl import keys
from xtract_service.crawl.store import CrawlNotFound, CrawlStore
from xtract_service.notify import emit

WORDS = ("INIT", "IN_SCHEDULING", "SCHEDULED", "EXTRACTING", "COMPLETED", "FAILED")
TERMINAL = ("COMPLETED", "FAILED")
_COUNTERS = ("orch_enter", "pulled", "scheduled", "success", "failed", "unknown", "files")

# KEYS: family state hash, xtract hash, results stream
# ARGV: n, then per family: id, state json, document json, ok (1/0), unknown files, files
_RECORD = """
local docs, recorded = {}, {}
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local b = 2 + i * 6
  if redis.call('HSETNX', KEYS[1], ARGV[b], ARGV[b + 1]) == 1 then
    docs[#docs + 1] = ARGV[b + 2]
    recorded[#recorded + 1] = ARGV[b]
    if ARGV[b + 3] == '1' then
      redis.call('HINCRBY', KEYS[2], 'success', 1)
    else
      redis.call('HINCRBY', KEYS[2], 'failed', 1)
    end
    redis.call('HINCRBY', KEYS[2], 'unknown', ARGV[b + 4])
    redis.call('HINCRBY', KEYS[2], 'files', ARGV[b + 5])
  end
end
if #docs > 0 then
  redis.call('XADD', KEYS[3], '*', 'docs', '[' .. table.concat(docs, ',') .. ']', 'n', #docs)
end
return recorded
"""

# KEYS: xtract hash; ARGV: the word to move to, the words in order (a status only advances)
_ADVANCE = """
local now = redis.call('HGET', KEYS[1], 'status')
local rank = {}
for i = 2, #ARGV do rank[ARGV[i]] = i end
if now == false or rank[now] == nil or rank[ARGV[1]] > rank[now] then
  redis.call('HSET', KEYS[1], 'status', ARGV[1])
  return 1
end
return 0
"""


class ExtractionExists(RuntimeError):
    """The crawl already has an extraction."""


class ExtractionStore:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r
        self.crawls = CrawlStore(r)
        self._record = r.register_script(_RECORD)
        self._advance = r.register_script(_ADVANCE)

    def start(
        self, crawl_id: str, owner: str, options: dict[str, Any], secrets: dict[str, str]
    ) -> dict[str, Any]:
        """Begin extracting a crawl's families (those found so far and those to come)."""
        self.crawls.get(crawl_id, owner)
        created = self.r.hsetnx(keys.xtract(crawl_id), "status", "INIT")
        if not created:
            state = (self.r.hget(keys.xtract(crawl_id), "status") or b"").decode()
            raise ExtractionExists(
                f"crawl {crawl_id} already has an extraction ({state}); "
                "`xtract retry` re-runs the families that failed"
            )
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(
            keys.xtract(crawl_id),
            mapping={
                "options": json.dumps(options),
                "owner": owner,
                "started_at": time.time(),
                "message": "OK",
                **dict.fromkeys(_COUNTERS, 0),
            },
        )
        if secrets:
            pipe.hset(keys.xtract_secrets(crawl_id), mapping=secrets)
        pipe.execute()
        try:
            self.r.xgroup_create(keys.families(crawl_id), keys.XTRACT_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.r.sadd(keys.XTRACT_ACTIVE, crawl_id)
        emit(self.r, crawl_id, "xtract", "STARTED", executor=options.get("executor"))
        return self.status(crawl_id, owner)

    def options(self, crawl_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        raw = self.r.hget(keys.xtract(crawl_id), "options")
        if raw is None:
            raise CrawlNotFound(crawl_id)
        secrets = {
            k.decode(): v.decode() for k, v in self.r.hgetall(keys.xtract_secrets(crawl_id)).items()
        }
        return json.loads(raw), secrets

    def status(self, crawl_id: str, owner: str | None) -> dict[str, Any]:
        """The published shape ``{xtract_status, xtract_counters}``, and more."""
        self.crawls.get(crawl_id, owner)
        h = {k.decode(): v.decode() for k, v in self.r.hgetall(keys.xtract(crawl_id)).items()}
        if not h:
            raise CrawlNotFound(f"crawl {crawl_id} has no extraction; start one with xtract()")
        c = {k: int(h.get(k, 0)) for k in _COUNTERS}
        done = c["success"] + c["failed"]
        options = json.loads(h.get("options", "{}"))
        return {
            "crawl_id": crawl_id,
            "xtract_status": h["status"],
            "message": h.get("message", "OK"),
            "xtract_counters": {
                "cumu_orch_enter": c["orch_enter"],
                "cumu_pulled": c["pulled"],
                "cumu_scheduled": c["scheduled"],
                "cumu_to_schedule": max(c["pulled"] - c["scheduled"], 0),
                "flagged_unknown": c["unknown"],
                "fx": {
                    "success": c["success"],
                    "failed": c["failed"],
                    "pending": max(c["scheduled"] - done, 0),
                },
            },
            "files_extracted": c["files"],
            "executor": options.get("executor"),
            "local_mdata_path": options.get("local_mdata_path"),
            "started_at": float(h["started_at"]) if h.get("started_at") else None,
            "finished_at": float(h["finished_at"]) if h.get("finished_at") else None,
        }

    def count(self, crawl_id: str, **deltas: int) -> None:
        pipe = self.r.pipeline(transaction=False)
        for name, delta in deltas.items():
            if delta:
                pipe.hincrby(keys.xtract(crawl_id), name, delta)
        pipe.execute()

    def advance(self, crawl_id: str, word: str) -> bool:
        return bool(self._advance(keys=[keys.xtract(crawl_id)], args=[word, *WORDS]))

    def recorded(self, crawl_id: str, family_ids: list[str]) -> set[str]:
        """Which of these families already have a recorded state."""
        if not family_ids:
            return set()
        states = self.r.hmget(keys.family_state(crawl_id), family_ids)
        return {fid for fid, s in zip(family_ids, states, strict=True) if s is not None}

    def record(self, crawl_id: str, docs: list[dict[str, Any]], ok: list[bool]) -> set[str]:
        """Record documents; returns the ids recorded now (not already before)."""
        args: list[Any] = [len(docs)]
        now = time.time()
        for doc, good in zip(docs, ok, strict=True):
            state = {
                "state": "success" if good else "failed",
                "tries": 1,
                "seconds": round(sum(e["seconds"] for e in doc["extractors"].values()), 6),
                "extractors": doc["extractors"],
                "error": None if good else doc["errors"][0]["message"],
                "at": now,
                "version": doc.get("extracted_at"),  # which document in results is current
            }
            args += [
                doc["family_id"],
                json.dumps(state),
                json.dumps(doc),
                "1" if good else "0",
                len(doc["unknown"]),
                len(doc["files"]),
            ]
        k = [keys.family_state(crawl_id), keys.xtract(crawl_id), keys.results(crawl_id)]
        return {x.decode() for x in self._record(keys=k, args=args)}

    def finish_if_done(self, crawl_id: str) -> bool:
        """Mark the extraction COMPLETED (or FAILED, if every family failed) once the
        crawl has ended and every family it found has been recorded."""
        crawl_status = (self.r.hget(keys.crawl(crawl_id), "status") or b"").decode()
        if crawl_status not in ("complete", "failed", "cancelled"):
            return False
        stream = keys.families(crawl_id)
        groups = {g["name"].decode(): g for g in self.r.xinfo_groups(stream)}
        group = groups.get(keys.XTRACT_GROUP)
        if group is None or group["pending"]:
            return False
        last = self.r.xinfo_stream(stream)["last-generated-id"] if self.r.exists(stream) else b"0-0"
        if group["last-delivered-id"] != last:
            return False
        h = self.r.hmget(keys.xtract(crawl_id), "success", "failed")
        success, failed = (int(x or 0) for x in h)
        word = "FAILED" if failed and not success else "COMPLETED"
        if self.advance(crawl_id, word):
            message = "OK" if not failed else f"{failed} families failed; see their documents"
            self.r.hset(
                keys.xtract(crawl_id), mapping={"finished_at": time.time(), "message": message}
            )
            self.r.srem(keys.XTRACT_ACTIVE, crawl_id)
            emit(self.r, crawl_id, "xtract", word, success=success, failed=failed)
        return True

    def current(self, crawl_id: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The documents that are still their family's latest (a retry supersedes)."""
        if not docs:
            return []
        states = self.r.hmget(keys.family_state(crawl_id), [d["family_id"] for d in docs])
        out = []
        for doc, raw in zip(docs, states, strict=True):
            if raw is not None and json.loads(raw).get("version") == doc.get("extracted_at"):
                out.append(doc)
        return out

    def retry(self, crawl_id: str, owner: str, errors: bool = False) -> dict[str, Any]:
        """Extract again the families that failed (with ``errors``, also those where
        any extractor failed); families that succeeded are left alone."""
        status = self.status(crawl_id, owner)
        if status["xtract_status"] not in TERMINAL:
            raise ExtractionExists(f"the extraction of {crawl_id} is still running")
        wanted: dict[str, dict[str, Any]] = {}
        for fid_raw, raw in self.r.hscan_iter(keys.family_state(crawl_id), count=1000):
            state = json.loads(raw)
            bad = state["state"] == "failed" or (
                errors and any(e["state"] == "failed" for e in state["extractors"].values())
            )
            if bad:
                wanted[fid_raw.decode()] = state
        families: dict[str, dict[str, Any]] = {}
        for _, fields in self.r.xrange(keys.results(crawl_id)) if wanted else []:
            for doc in json.loads(fields[b"docs"]):
                if doc["family_id"] in wanted:  # the latest document wins
                    families[doc["family_id"]] = {
                        k: doc[k] for k in ("family_id", "files", "groups")
                    }
        if families:
            was_failed = sum(1 for f in families if wanted[f]["state"] == "failed")
            pipe = self.r.pipeline(transaction=True)
            pipe.hdel(keys.family_state(crawl_id), *families)
            pipe.hincrby(keys.xtract(crawl_id), "failed", -was_failed)
            pipe.hincrby(keys.xtract(crawl_id), "success", -(len(families) - was_failed))
            pipe.hincrby(
                keys.xtract(crawl_id), "files", -sum(len(f["files"]) for f in families.values())
            )
            pipe.hset(keys.xtract(crawl_id), mapping={"status": "IN_SCHEDULING", "message": "OK"})
            pipe.hdel(keys.xtract(crawl_id), "finished_at")
            pipe.xadd(
                keys.families(crawl_id), {"retry": json.dumps(list(families.values())), "n": 0}
            )
            pipe.sadd(keys.XTRACT_ACTIVE, crawl_id)
            pipe.execute()
            emit(self.r, crawl_id, "xtract", "STARTED", retry=len(families))
        return {"crawl_id": crawl_id, "retried": len(families)}

    def clear(self, crawl_id: str, owner: str, extractor: str | None = None) -> dict[str, Any]:
        """Forget results so they are extracted again: all of them (a new ``xtract`` may
        then start), or one extractor's (``retry`` then runs those families again)."""
        status = self.status(crawl_id, owner)
        if status["xtract_status"] not in TERMINAL:
            raise ExtractionExists(f"the extraction of {crawl_id} is still running")
        if extractor is None:
            n = self.r.hlen(keys.family_state(crawl_id))
            self.r.delete(
                keys.xtract(crawl_id),
                keys.family_state(crawl_id),
                keys.results(crawl_id),
                keys.xtract_secrets(crawl_id),
            )
            self.r.xgroup_destroy(keys.families(crawl_id), keys.XTRACT_GROUP)
            return {"crawl_id": crawl_id, "cleared": n}
        cleared = 0
        for fid_raw, raw in self.r.hscan_iter(keys.family_state(crawl_id), count=1000):
            state = json.loads(raw)
            if extractor in state["extractors"] and state["state"] == "success":
                state.update(state="failed", error=f"cleared {extractor}")
                self.r.hset(keys.family_state(crawl_id), fid_raw, json.dumps(state))
                cleared += 1
        self.count(crawl_id, success=-cleared, failed=cleared)
        return {"crawl_id": crawl_id, "cleared": cleared}

    def page(self, crawl_id: str, owner: str, after: str | None, limit: int) -> dict[str, Any]:
        """Up to ``limit`` metadata documents after the cursor ``after`` (read-only)."""
        self.crawls.get(crawl_id, owner)
        entry, skip = "0-0", 0
        if after:
            try:
                entry, skip_s = after.split(":")
                skip = int(skip_s)
            except ValueError:
                raise ValueError(
                    f"bad cursor {after!r}; pass the 'next' of the previous page"
                ) from None
        out: list[dict[str, Any]] = []
        nxt = None
        start = entry
        while len(out) < limit:
            batch = self.r.xrange(keys.results(crawl_id), min=start, count=16)
            if not batch:
                break
            for eid_raw, fields in batch:
                eid = eid_raw.decode()
                docs = json.loads(fields[b"docs"])
                begin = skip if eid == entry else 0
                take = docs[begin : begin + limit - len(out)]
                out += take
                nxt = f"{eid}:{begin + len(take)}"
                if len(out) >= limit:
                    break
            start = "(" + batch[-1][0].decode()
        # a retried family's older document is skipped (the page may come out shorter)
        docs = self.current(crawl_id, out)
        return {"crawl_id": crawl_id, "documents": docs, "count": len(out), "next": nxt}
