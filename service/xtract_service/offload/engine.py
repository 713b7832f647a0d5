"""The engine that runs one offload job.

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
from datetime import UTC, datetime
from typing import Any

import redis

from xtract_extractors.safepath import Roots, opened
from xtract_sdk.status import EventType, OffloadStatus, XtractStatus
from xtract_service.access import own_folder
from xtract_service.events import publish
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.offload import OffloadFailed, moves
from xtract_service.offload.formats import Part, open_writer, write_manifest
from xtract_service.offload.pipeline import items_of
from xtract_service.offload.start import OffloadRequest
from xtract_service.offload.store import OffloadStore
from xtract_service.settings import Settings


def folder_name(now: datetime | None = None) -> str:
    """The destination folder name, ``YYYY-MM-DD-hh.mm.ss`` (UTC), as the published SDK
    names them: no colons, so `scp host:path`, rsync, Windows and Hadoop take it."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d-%H.%M.%S")


class Engine:
    """Runs one offload job to the end (or to a clear failure)."""

    def __init__(self, r: redis.Redis, settings: Settings, oid: str) -> None:
        self.r, self.settings, self.oid = r, settings, oid
        self.store = OffloadStore(r, settings.vault())
        h = self.store.get(oid)
        self.crawl_id, self.owner = h["crawl_id"], h.get("owner", "")
        self.spec = OffloadRequest.model_validate(json.loads(h["spec"]))
        self.secrets = self.store.secrets(oid)
        self.staging, self.staging_root = own_folder(settings, "offloads", oid, self.crawl_id)
        self.runs = ExtractionRuns(r, settings.vault())

    def open_staging(self) -> int:
        """The staging folder (made 0700 if need be); the caller closes it."""
        return Roots([self.staging_root]).open_dir(self.staging, create=True)

    def update(self, **fields: Any) -> None:
        """Set fields of this job's hash (moves record their progress here too)."""
        self.store.update(self.oid, **fields)

    def run(self) -> None:
        status = self.store.get(self.oid)["status"]
        if status in OffloadStatus.terminal():
            return
        if status == OffloadStatus.QUEUED:
            publish(self.r, self.crawl_id, EventType.OFFLOAD_STARTED, offload_id=self.oid)
        try:
            if status in (OffloadStatus.QUEUED, OffloadStatus.WRITING):
                self.update(status=OffloadStatus.WRITING.value)
                self.write()
            self.update(status=OffloadStatus.MOVING.value)
            destination = self.move()
            if self.spec.delete_source and self.spec.move != "search":
                shutil.rmtree(self.staging, ignore_errors=True)
            self.store.end(
                self.oid,
                status=OffloadStatus.COMPLETED.value,
                destination=destination or "",
                finished_at=time.time(),
            )
            publish(
                self.r,
                self.crawl_id,
                EventType.OFFLOAD_COMPLETED,
                offload_id=self.oid,
                destination=destination,
            )
        except OffloadFailed as exc:
            self.store.fail(self.oid, str(exc))
            publish(
                self.r,
                self.crawl_id,
                EventType.OFFLOAD_FAILED,
                offload_id=self.oid,
                reason=str(exc),
            )

    # -- writing --------------------------------------------------------------------------
    def committed(self) -> list[Part]:
        return self.store.parts(self.oid)

    def write(self) -> None:
        with opened(self.open_staging()) as folder:
            self._write(folder)

    def _write(self, folder: int) -> None:
        parts = self.committed()
        keep = {p["name"] for p in parts}
        for leftover in os.listdir(folder):  # written but never committed: write again
            if leftover not in keep:
                os.unlink(leftover, dir_fd=folder)
        position = self.store.position(self.oid)
        writer = open_writer(
            self.spec.format,
            folder,
            len([p for p in parts if p["name"].startswith("part-")]),
            self.spec.format_params,
        )
        while True:
            for pos, doc in self.runs.results.read(self.crawl_id, position):
                position = pos
                if not self.runs.results.current(self.crawl_id, [doc]):
                    continue  # superseded by a retry
                items = [self.spec.transform.apply(i) for i in items_of(doc) if self._passes(i)]
                if not items:
                    continue
                done = writer.add_family(items, pos)
                if done:  # committed with the position after the last family they hold
                    self.store.commit(self.oid, done, done[-1]["position"])
            if self.runs.status_word(self.crawl_id) in XtractStatus.terminal():
                break
            time.sleep(0.5)
        self.store.commit(self.oid, writer.close(), position)
        write_manifest(
            folder,
            self.spec.format,
            self.committed(),
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

    # -- moving ---------------------------------------------------------------------------
    def move(self) -> str | None:
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
            while os.path.lexists(os.path.join(base, candidate, self.crawl_id)):
                n += 1
                candidate = f"{folder}-{n}"
            folder = candidate
        self.update(folder=folder)
        return os.path.join(base, folder, self.crawl_id)
