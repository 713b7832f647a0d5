"""The engine that runs one partition of an offload job.

A job goes QUEUED -> WRITING -> MOVING -> COMPLETED | FAILED. Its writing is shared by
``partitions`` stream entries, which any offload workers take up: partition ``k`` of
``n`` writes the results entries whose bytes' CRC-32 is ``k`` modulo ``n`` (every
partition reads the stream, each decodes and writes only its own share, and a family's
current document lives in exactly one entry, so it is written once). A partition
reads the crawl's results after its committed position, filters and transforms the
items, and hands whole families to its writer; each part the writer finishes is
durably written *before* the part and the partition's position after its last family
are committed together (one MULTI). A partition that dies is taken up again from that
position: its parts not committed are written again under the same names, so no
family is written twice. The partition that finds every partition done finishes the
job: it removes files no partition committed (a dead writer's), writes the manifest
and moves. Moving
records the transfer task (or the search tasks) before waiting on them, so a resumed
job waits instead of sending twice.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from datetime import UTC, datetime
from typing import Any

import redis

from xtract_extractors.safepath import Roots, opened
from xtract_sdk.status import EventType, OffloadStatus, XtractStatus
from xtract_service.access import own_folder
from xtract_service.events import publish
from xtract_service.extraction.documents import Document
from xtract_service.extraction.results import docs_of
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.offload import OffloadFailed, moves
from xtract_service.offload.formats import Part, open_writer, write_manifest
from xtract_service.offload.pipeline import items_of
from xtract_service.offload.start import OffloadRequest
from xtract_service.offload.store import OffloadStore
from xtract_service.redis_client import Fields
from xtract_service.settings import Settings


def folder_name(now: datetime | None = None) -> str:
    """The destination folder name, ``YYYY-MM-DD-hh.mm.ss`` (UTC), as the published SDK
    names them: no colons, so `scp host:path`, rsync, Windows and Hadoop take it."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d-%H.%M.%S")


class Engine:
    """Runs one partition of an offload job to the end (or to a clear failure), and
    the whole job's end if it is the partition that finishes it."""

    def __init__(self, r: redis.Redis, settings: Settings, oid: str, partition: int = 0) -> None:
        self.r, self.settings, self.oid, self.partition = r, settings, oid, partition
        self.store = OffloadStore(r, settings.vault())
        h = self.store.get(oid)
        self.crawl_id, self.owner = h["crawl_id"], h.get("owner", "")
        self.partitions = int(h.get("partitions") or 1)
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

    def status(self) -> str:
        return self.store.get(self.oid)["status"]

    def run(self) -> None:
        status = self.status()
        if status in OffloadStatus.terminal():
            return
        if self.store.started(self.oid):
            publish(self.r, self.crawl_id, EventType.OFFLOAD_STARTED, offload_id=self.oid)
        try:
            all_done = self.partition in self.store.done(self.oid)
            if not all_done:
                if status == OffloadStatus.QUEUED:
                    self.update(status=OffloadStatus.WRITING.value)
                all_done = self.write()
            if not all_done or not self.store.finisher(self.oid, self.partition):
                return  # the partition that finds them all done finishes the job
            if self.status() in OffloadStatus.terminal():
                return
            self.finish()
        except OffloadFailed as exc:
            if self.status() == OffloadStatus.FAILED:
                return  # another partition failed first: its reason stands
            self.store.fail(self.oid, str(exc))
            publish(
                self.r,
                self.crawl_id,
                EventType.OFFLOAD_FAILED,
                offload_id=self.oid,
                reason=str(exc),
            )

    def finish(self) -> None:
        """Every partition is done: the manifest, the move, the end."""
        if self.status() != OffloadStatus.MOVING:
            with opened(self.open_staging()) as folder:
                self._manifest(folder)
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

    # -- writing --------------------------------------------------------------------------
    def committed(self) -> list[Part]:
        return self.store.parts(self.oid)

    def write(self) -> bool:
        """Write this partition's share; returns whether every partition is done."""
        with opened(self.open_staging()) as folder:
            return self._write(folder)

    def _mine(self, fields: Fields) -> list[Document]:
        """The documents of a results entry if it is this partition's share."""
        if self.partitions > 1:
            share = zlib.crc32(fields["docs"].encode()) % self.partitions
            if share != self.partition:
                return []
        return docs_of(fields)

    def _write(self, folder: int) -> bool:
        # parts written but never committed are written again under the same names;
        # whatever else a dead writer left, the finisher removes (:meth:`_manifest`)
        parts = self.committed()
        prefix = f"part-{self.partition:02d}-" if self.partitions > 1 else "part-"
        mine = [p for p in parts if p.get("partition", 0) == self.partition]
        position = self.store.position(self.oid, self.partition)
        writer = open_writer(
            self.spec.format,
            folder,
            len([p for p in mine if p["name"].startswith(prefix)]),
            self.spec.format_params,
        )
        writer.name_prefix = prefix
        while True:
            for pos, doc in self.runs.results.read(self.crawl_id, position, self._mine):
                position = pos
                if not self.runs.results.current(self.crawl_id, [doc]):
                    continue  # superseded by a retry
                items = [self.spec.transform.apply(i) for i in items_of(doc) if self._passes(i)]
                if not items:
                    continue
                done = writer.add_family(items, pos)
                if done:  # committed with the position after the last family they hold
                    self.store.commit(self.oid, done, done[-1]["position"], self.partition)
            if self.runs.status_word(self.crawl_id) in XtractStatus.terminal():
                break
            if self.status() == OffloadStatus.FAILED:
                raise OffloadFailed("another partition of this offload failed")
            time.sleep(0.5)
        return self.store.commit(self.oid, writer.close(), position, self.partition, last=True)

    def _manifest(self, folder: int) -> None:
        parts = self.committed()
        keep = {p["name"] for p in parts}
        for leftover in os.listdir(folder):  # a dead partition's uncommitted files
            if leftover not in keep and leftover not in ("MANIFEST.sha256", "manifest.json"):
                os.unlink(leftover, dir_fd=folder)
        write_manifest(
            folder,
            self.spec.format,
            parts,
            {
                "crawl_id": self.crawl_id,
                "offload_id": self.oid,
                "partitions": self.partitions,
                "filters": [f.model_dump() for f in self.spec.filters],
            },
        )

    def _passes(self, item: dict[str, Any]) -> bool:
        keeps = [f for f in self.spec.filters if f.action == "keep"]
        drops = [f for f in self.spec.filters if f.action == "drop"]
        return all(f.matches(item) for f in keeps) and not any(f.matches(item) for f in drops)

    # -- moving ---------------------------------------------------------------------------
    def move(self) -> str | None:
        return moves.destination_named(self.spec.move).move(self, self.spec.move_params)

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
