"""Offload jobs in Redis: creating one (and queueing it, one stream entry per partition),
its state, each partition's committed parts and position, which partitions are done
and which of them finishes the job, and reading its status."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis

from xtract_sdk.status import OffloadStatus
from xtract_service import keys
from xtract_service.crawl.store import CrawlNotFound
from xtract_service.offload.formats import Part
from xtract_service.redis_client import Mapping, hash_of, number, text
from xtract_service.streams import Cursor
from xtract_service.vault import Vault, opened_secrets, sealed

LISTED = 50  # offloads a crawl's listing shows


class OffloadStore:
    def __init__(self, r: redis.Redis, vault: Vault | None = None) -> None:
        self.r = r
        self.vault = vault

    def create(
        self,
        crawl_id: str,
        owner: str,
        spec: dict[str, Any],
        secrets: dict[str, str],
        dest_root: str | None = None,
        partitions: int = 1,
    ) -> str:
        oid = str(uuid.uuid4())
        now = time.time()
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(
            keys.offload(oid),
            mapping={
                "offload_id": oid,
                "crawl_id": crawl_id,
                "owner": owner,
                "status": OffloadStatus.QUEUED.value,
                "message": "OK",
                "spec": json.dumps(spec),
                "partitions": partitions,
                "items": 0,
                "families": 0,
                "created_at": now,
                "dest_root": dest_root or "",
            },
        )
        if secrets:
            stored = sealed(self.vault, secrets)
            pipe.hset(keys.offload_secrets(oid), mapping=Mapping(stored))
        pipe.execute()
        # then, in their own slots: the crawl's list of offloads, and the jobs (an
        # offload the jobs stream never got stays QUEUED; the API has answered an error)
        after = self.r.pipeline(transaction=False)
        after.zadd(keys.crawl_offloads(crawl_id), {oid: now})
        for k in range(partitions):
            after.xadd(keys.OFFLOAD_JOBS, {"offload_id": oid, "partition": k})
        after.execute()
        return oid

    def get(self, oid: str) -> dict[str, str]:
        return hash_of(self.r, keys.offload(oid))

    def secrets(self, oid: str) -> dict[str, str]:
        return opened_secrets(self.vault, hash_of(self.r, keys.offload_secrets(oid)))

    def end(self, oid: str, **fields: Any) -> None:
        """Record the job's end; the tokens it moved with are deleted."""
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(keys.offload(oid), mapping=Mapping(fields))
        pipe.delete(keys.offload_secrets(oid))
        pipe.execute()

    def of_crawl(self, crawl_id: str, oid: str) -> dict[str, Any]:
        """The status of offload ``oid`` of this crawl; CrawlNotFound if it is not one."""
        h = self.get(oid) if len(oid) < 64 else {}
        if not h or h.get("crawl_id") != crawl_id:
            raise CrawlNotFound(f"no offload {oid} for crawl {crawl_id}")
        return self.status(oid)

    def update(self, oid: str, **fields: Any) -> None:
        self.r.hset(keys.offload(oid), mapping=Mapping(fields))

    def fail(self, oid: str, message: str) -> None:
        status = OffloadStatus.FAILED.value
        self.end(oid, status=status, message=message, finished_at=time.time())

    def parts(self, oid: str) -> list[Part]:
        """The parts committed so far (every partition's), in order."""
        return [json.loads(text(p)) for p in self.r.lrange(keys.offload_parts(oid), 0, -1)]

    def position(self, oid: str, partition: int = 0) -> Cursor:
        return Cursor.parse(self.get(oid).get(f"position:{partition}"))

    def commit(
        self,
        oid: str,
        parts: list[Part],
        position: Cursor,
        partition: int = 0,
        *,
        last: bool = False,
    ) -> bool:
        """Record a partition's durably written parts together with its position after
        them; with ``last``, the partition is done. Returns whether every partition is."""
        h = keys.offload(oid)
        pipe = self.r.pipeline(transaction=True)
        for p in parts:
            p.pop("position", None)  # the partition's position says it
            pipe.rpush(keys.offload_parts(oid), json.dumps({**p, "partition": partition}))
            for field in ("items", "families"):
                pipe.hincrby(h, field, p[field])
                pipe.hincrby(h, f"{field}:{partition}", p[field])
        pipe.hset(h, f"position:{partition}", str(position))
        if last:
            pipe.sadd(keys.offload_done(oid), partition)
        pipe.scard(keys.offload_done(oid))
        pipe.hget(h, "partitions")
        *_, done, partitions = pipe.execute()
        return int(done) >= int(partitions or 1)

    def done(self, oid: str) -> set[int]:
        """The partitions that have written all their parts."""
        return {int(text(k)) for k in self.r.smembers(keys.offload_done(oid))}

    def finisher(self, oid: str, partition: int) -> bool:
        """Whether ``partition`` finishes the job (manifest, move) once every partition
        is done: the first to ask is, and stays so if its worker dies and another takes
        its stream entry up again."""
        self.r.hsetnx(keys.offload(oid), "finisher", partition)
        return text(self.r.hget(keys.offload(oid), "finisher")) == str(partition)

    def started(self, oid: str) -> bool:
        """True for the one partition that starts the job first (it says so)."""
        return bool(self.r.hsetnx(keys.offload(oid), "started_at", time.time()))

    def status(self, oid: str) -> dict[str, Any]:
        h = self.get(oid)
        spec = json.loads(h["spec"])
        out: dict[str, Any] = {
            "offload_id": oid,
            "crawl_id": h["crawl_id"],
            "status": h["status"],
            "message": h.get("message", "OK"),
            "format": spec["format"],
            "move": spec["move"],
            "items": number(h.get("items")),
            "families": number(h.get("families")),
            "parts": self.r.llen(keys.offload_parts(oid)),
            "partitions": self._partitions(oid, h),
            "destination": h.get("destination"),
            "created_at": float(h["created_at"]),
            "finished_at": float(h["finished_at"]) if h.get("finished_at") else None,
        }
        if h.get("transfer_task_id"):
            out["transfer"] = {"task_id": h["transfer_task_id"], "status": h.get("transfer_status")}
        if h.get("search_tasks"):
            out["search_tasks"] = json.loads(h["search_tasks"])
        return out

    def _partitions(self, oid: str, h: dict[str, str]) -> list[dict[str, Any]]:
        """Each partition's progress: the files and families it has written, and
        whether it is done."""
        done = self.done(oid)
        return [
            {
                "partition": k,
                "items": number(h.get(f"items:{k}")),
                "families": number(h.get(f"families:{k}")),
                "done": k in done,
            }
            for k in range(int(h.get("partitions") or 1))
        ]

    def list(self, crawl_id: str) -> list[dict[str, Any]]:
        ids = [text(i) for i in self.r.zrevrange(keys.crawl_offloads(crawl_id), 0, LISTED - 1)]
        return [self.status(i) for i in ids]
