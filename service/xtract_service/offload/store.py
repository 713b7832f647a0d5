"""Offload jobs in Redis: creating one (and queueing it), its state, its committed parts
and position, and reading its status."""

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
                "position": str(Cursor()),
                "items": 0,
                "families": 0,
                "created_at": now,
                "dest_root": dest_root or "",
            },
        )
        if secrets:
            stored = sealed(self.vault, secrets)
            pipe.hset(keys.offload_secrets(oid), mapping=Mapping(stored))
        pipe.zadd(keys.crawl_offloads(crawl_id), {oid: now})
        pipe.xadd(keys.OFFLOAD_JOBS, {"offload_id": oid})
        pipe.execute()
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
        """The parts committed so far, in order."""
        return [json.loads(text(p)) for p in self.r.lrange(keys.offload_parts(oid), 0, -1)]

    def position(self, oid: str) -> Cursor:
        return Cursor.parse(self.get(oid).get("position"))

    def commit(self, oid: str, parts: list[Part], position: Cursor) -> None:
        """Record durably written parts together with the position after them."""
        pipe = self.r.pipeline(transaction=True)
        for p in parts:
            p.pop("position", None)  # the job's position says it; the manifest need not
            pipe.rpush(keys.offload_parts(oid), json.dumps(p))
            pipe.hincrby(keys.offload(oid), "items", p["items"])
            pipe.hincrby(keys.offload(oid), "families", p["families"])
        pipe.hset(keys.offload(oid), "position", str(position))
        pipe.execute()

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
            "destination": h.get("destination"),
            "created_at": float(h["created_at"]),
            "finished_at": float(h["finished_at"]) if h.get("finished_at") else None,
        }
        if h.get("transfer_task_id"):
            out["transfer"] = {"task_id": h["transfer_task_id"], "status": h.get("transfer_status")}
        if h.get("search_tasks"):
            out["search_tasks"] = json.loads(h["search_tasks"])
        return out

    def list(self, crawl_id: str) -> list[dict[str, Any]]:
        ids = [text(i) for i in self.r.zrevrange(keys.crawl_offloads(crawl_id), 0, LISTED - 1)]
        return [self.status(i) for i in ids]
