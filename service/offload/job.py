"""Offload jobs: their requests, their state in Redis, and the engine that runs one.

A job goes QUEUED -> WRITING -> MOVING -> COMPLETED | FAILED. Writing reads the crawl's
results after the committed position, filters and transforms the items, and hands whole
families to the writer; each part the writer finishes is durably written *before* the
part and the position after its last family are committed together (one MULTI). A job
that dies is taken up again from that position: parts not committed are deleted and
written again, so no family is written twice. Moving records the transfer task (or the
search tasks) before waiting on them, so a resumed job waits instead of sending twice.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import redis
from pydantic import BaseModel, ConfigDict, Field

from xtract_service.crawl import keys
from xtract_service.notify import emit
from xtract_service.offload import OffloadFailed
from xtract_service.offload.formats import Part, check_format, open_writer, write_manifest
from xtract_service.offload.pipeline import Filter, Transform, items_of, read_results
from xtract_service.paths import output_folder, within
from xtract_service.settings import Settings

TERMINAL = ("COMPLETED", "FAILED")


class OffloadRequest(BaseModel):
    """What to export, how, and where to."""

    model_config = ConfigDict(extra="forbid")

    format: str = "family_json"
    format_params: dict[str, Any] = Field(default_factory=dict)
    filters: list[Filter] = Field(default_factory=list)
    transform: Transform = Field(default_factory=Transform)
    dest_ep_id: str | None = Field(None, description="a Globus endpoint; none: a local folder")
    dest_path: str = Field("", description="folder under which the new folder is made")
    folder: str | None = Field(None, description="the new folder's name (YYYY-MM-DD-hh:mm:ss)")
    timeout: float = Field(600, gt=0, le=7 * 24 * 3600)
    delete_source: bool = False
    move: Literal["local", "globus", "search"] = "local"
    index_id: str | None = None
    tokens: dict[str, str] = Field(default_factory=dict)


def folder_name(now: datetime | None = None) -> str:
    """The seed's destination folder name, ``YYYY-MM-DD-hh:mm:ss`` (UTC)."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d-%H:%M:%S")


class OffloadStore:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r

    def create(
        self, crawl_id: str, owner: str, req: OffloadRequest, secrets: dict[str, str]
    ) -> str:
        oid = str(uuid.uuid4())
        now = time.time()
        spec = req.model_dump(exclude={"tokens"})
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(
            keys.offload(oid),
            mapping={
                "offload_id": oid,
                "crawl_id": crawl_id,
                "owner": owner,
                "status": "QUEUED",
                "message": "OK",
                "spec": json.dumps(spec),
                "position": "0-0 0",
                "items": 0,
                "families": 0,
                "created_at": now,
            },
        )
        if secrets:
            pipe.hset(keys.offload_secrets(oid), mapping=secrets)
        pipe.zadd(keys.crawl_offloads(crawl_id), {oid: now})
        pipe.xadd(keys.OFFLOAD_JOBS, {"offload_id": oid})
        pipe.execute()
        return oid

    def get(self, oid: str) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.r.hgetall(keys.offload(oid)).items()}

    def status(self, oid: str) -> dict[str, Any]:
        h = self.get(oid)
        spec = json.loads(h["spec"])
        parts = [json.loads(p) for p in self.r.lrange(keys.offload_parts(oid), 0, -1)]
        out: dict[str, Any] = {
            "offload_id": oid,
            "crawl_id": h["crawl_id"],
            "status": h["status"],
            "message": h.get("message", "OK"),
            "format": spec["format"],
            "move": spec["move"],
            "items": int(h.get("items", 0)),
            "families": int(h.get("families", 0)),
            "parts": len(parts),
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
        ids = [i.decode() for i in self.r.zrevrange(keys.crawl_offloads(crawl_id), 0, 49)]
        return [self.status(i) for i in ids]


class Engine:
    """Runs one offload job to the end (or to a clear failure)."""

    def __init__(
        self, r: redis.Redis, settings: Settings, oid: str, heartbeat: Callable[[], None]
    ) -> None:
        self.r, self.settings, self.oid, self.heartbeat = r, settings, oid, heartbeat
        self.store = OffloadStore(r)
        h = self.store.get(oid)
        self.crawl_id = h["crawl_id"]
        self.spec = OffloadRequest.model_validate({**json.loads(h["spec"])})
        self.secrets = {
            k.decode(): v.decode() for k, v in self.r.hgetall(keys.offload_secrets(oid)).items()
        }
        self.staging = settings.home / "offloads" / oid / self.crawl_id
        from xtract_service.extraction.store import ExtractionStore

        self.extractions = ExtractionStore(r)

    def update(self, **fields: Any) -> None:
        """Set fields of this job's hash (moves record their progress here too)."""
        self.r.hset(keys.offload(self.oid), mapping={k: v for k, v in fields.items()})

    def run(self) -> None:
        h = self.store.get(self.oid)
        if h["status"] in TERMINAL:
            return
        if h["status"] == "QUEUED":
            emit(self.r, self.crawl_id, "offload", "STARTED", offload_id=self.oid)
        try:
            if h["status"] in ("QUEUED", "WRITING"):
                self.update(status="WRITING")
                self.write()
            self.update(status="MOVING")
            destination = self.move()
            if self.spec.delete_source and self.spec.move != "search":
                shutil.rmtree(self.staging, ignore_errors=True)
            self.update(status="COMPLETED", destination=destination or "", finished_at=time.time())
            emit(
                self.r,
                self.crawl_id,
                "offload",
                "COMPLETED",
                offload_id=self.oid,
                destination=destination,
            )
        except OffloadFailed as exc:
            self.update(status="FAILED", message=str(exc), finished_at=time.time())
            emit(self.r, self.crawl_id, "offload", "FAILED", offload_id=self.oid, reason=str(exc))

    # -- writing --------------------------------------------------------------------------
    def committed(self) -> list[Part]:
        return [json.loads(p) for p in self.r.lrange(keys.offload_parts(self.oid), 0, -1)]

    def write(self) -> None:
        parts = self.committed()
        self.staging.mkdir(parents=True, exist_ok=True)
        keep = {p["name"] for p in parts}
        for leftover in self.staging.iterdir():  # written but never committed: write again
            if leftover.name not in keep:
                leftover.unlink()
        entry, taken = self.store.get(self.oid)["position"].split()
        position = (entry, int(taken))
        writer = open_writer(
            self.spec.format,
            self.staging,
            len([p for p in parts if p["name"].startswith("part-")]),
            self.spec.format_params,
        )
        last_beat = time.monotonic()
        while True:
            for pos, doc in read_results(self.r, self.crawl_id, position):
                position = pos
                if not self.extractions.current(self.crawl_id, [doc]):
                    continue  # superseded by a retry
                items = [self.spec.transform.apply(i) for i in items_of(doc) if self._passes(i)]
                if not items:
                    continue
                done = writer.add_family(items, pos)
                if done:  # committed with the position after the last family they hold
                    self._commit(done, done[-1]["position"])
                if time.monotonic() - last_beat > 2:
                    self.heartbeat()
                    last_beat = time.monotonic()
            if self._extraction_finished():
                break
            self.heartbeat()
            time.sleep(0.5)
        self._commit(writer.close(), position)
        parts = self.committed()
        write_manifest(
            self.staging,
            self.spec.format,
            parts,
            {
                "crawl_id": self.crawl_id,
                "offload_id": self.oid,
                "filters": [f.model_dump() for f in self.spec.filters],
            },
        )

    def _passes(self, item: dict[str, Any]) -> bool:
        keeps = [f for f in self.spec.filters if f.action == "keep"]
        drops = [f for f in self.spec.filters if f.action == "drop"]
        return all(f.matches(item) for f in keeps) and not any(f.matches(item) for f in drops)

    def _commit(self, parts: list[Part], position: tuple[str, int]) -> None:
        pipe = self.r.pipeline(transaction=True)
        for p in parts:
            p.pop("position", None)  # the job's position says it; the manifest need not
            pipe.rpush(keys.offload_parts(self.oid), json.dumps(p))
            pipe.hincrby(keys.offload(self.oid), "items", p["items"])
            pipe.hincrby(keys.offload(self.oid), "families", p["families"])
        pipe.hset(keys.offload(self.oid), "position", f"{position[0]} {position[1]}")
        pipe.execute()

    def _extraction_finished(self) -> bool:
        status = self.r.hget(keys.xtract(self.crawl_id), "status")
        return status is not None and status.decode() in ("COMPLETED", "FAILED")

    # -- moving ---------------------------------------------------------------------------
    def move(self) -> str | None:
        from xtract_service.offload import moves

        if self.spec.move == "search":
            return moves.search_ingest(self)
        if self.spec.move == "globus":
            return moves.globus_transfer(self)
        return moves.local_copy(self)

    def destination(self) -> str:
        """``dest_path/FOLDER/CRAWL_ID``; a local folder another offload already filled
        in the same second gets a ``-2``, ``-3``, ... suffix rather than mixed files."""
        folder = self.spec.folder or folder_name()
        base = self.spec.dest_path or "/"
        if self.spec.move == "local":
            n, candidate = 1, folder
            while os.path.exists(os.path.join(base, candidate, self.crawl_id)):
                n += 1
                candidate = f"{folder}-{n}"
            folder = candidate
        self.update(folder=folder)
        return os.path.join(base, folder, self.crawl_id)


def validate_request(req: OffloadRequest, settings: Settings) -> None:
    """Everything that can be checked before the run starts; ValueError says what."""
    check_format(req.format, req.format_params)
    if req.move == "search":
        if not req.index_id:
            raise ValueError("a search ingest needs index_id")
        _uuid(req.index_id, "index_id")
        return
    if req.dest_ep_id and req.dest_ep_id != "local":
        _uuid(req.dest_ep_id, "dest_ep_id")
        req.move = "globus"
        if not settings.globus_collection_id:
            raise ValueError(
                "this service has no Globus collection to send from; "
                "set XTRACT_GLOBUS_COLLECTION_ID and XTRACT_GLOBUS_COLLECTION_ROOT"
            )
        if not req.dest_path.startswith("/"):
            raise ValueError("dest_path on a Globus endpoint must be absolute (start with '/')")
        root = os.path.realpath(settings.globus_collection_root or settings.home)
        staging = os.path.realpath(settings.home / "offloads")
        if not within(staging, root):
            raise ValueError(f"{staging} is not inside XTRACT_GLOBUS_COLLECTION_ROOT ({root})")
        return
    req.move = "local"
    req.dest_path = output_folder(
        req.dest_path or str(settings.home / "exports"), "dest_path", settings
    )


def _uuid(value: str, name: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a UUID") from None
