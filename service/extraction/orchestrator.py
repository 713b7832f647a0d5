"""The orchestrator: feeds each crawl's families to its extraction's executor while the
crawl may still run, and records what comes back.

It reads the families stream through the consumer group ``xtract`` (several
orchestrators may share one crawl: each entry goes to one of them), skips families
already recorded, cuts the rest into batches of about ``batch_files`` files, and submits
them. Each finished batch is written as one JSON document per family under the run's
``local_mdata_path`` (written first, atomically, so a document on disk is complete) and
then recorded in Redis exactly once. A stream entry is acknowledged when all its batches
are recorded; an orchestrator that dies leaves its entries pending, and another claims
them after ``claim_idle_seconds``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from xtract_extractors.batch import extract_batch
from xtract_extractors.kinds import container_family
from xtract_service.crawl import keys
from xtract_service.crawl.families import families_of
from xtract_service.extraction.executors import make_executor
from xtract_service.extraction.executors.globus_compute import container_config
from xtract_service.extraction.store import ExtractionStore
from xtract_service.notify import publish
from xtract_service.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Run:
    """What this orchestrator knows of one crawl's extraction."""

    crawl_id: str
    options: dict[str, Any]
    executor: Executor
    containers: dict[str, str]
    out_dir: Path
    entries: dict[str, int] = field(default_factory=dict)  # stream entry -> batches left
    last_reclaim: float = 0.0


@dataclass
class Batch:
    crawl_id: str
    entry_id: str
    families: list[dict[str, Any]]
    future: Future[Any]


def write_documents(out_dir: Path, docs: list[dict[str, Any]]) -> None:
    """One ``{family_id}.json`` per family, written whole or not at all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        final = out_dir / f"{doc['family_id']}.json"
        tmp = final.with_suffix(f".json.tmp{os.getpid()}")
        with open(tmp, "w") as f:
            json.dump(doc, f, separators=(",", ":"), default=str)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)


def failed_document(family: dict[str, Any], reason: str) -> dict[str, Any]:
    """The document of a family the executor could not run: an error record per file."""
    paths = list(dict.fromkeys([r["path"] for r in family["files"]]))
    errors = [{"path": p, "extractor": "*", "error": "executor", "message": reason} for p in paths]
    return {
        "family_id": family["family_id"],
        "files": family["files"],
        "groups": family.get("groups", []),
        "metadata": {},
        "errors": errors,
        "extractors": {},
        "unknown": [],
    }


def _payload(fields: dict[bytes, bytes]) -> bytes:
    """A families entry's payload; a retry's family list is marked with a leading R."""
    if b"retry" in fields:
        return b"R" + fields[b"retry"]
    return fields[b"families"]


class Orchestrator:
    def __init__(self, r: redis.Redis, settings: Settings, name: str | None = None) -> None:
        self.r = r
        self.settings = settings
        self.store = ExtractionStore(r)
        self.name = name or f"orch-{socket.gethostname()}-{os.getpid()}"
        self.stop = threading.Event()
        self.runs: dict[str, Run] = {}
        self.batches: list[Batch] = []
        self._shared: dict[str, Executor] = {}

    # -- the loop ---------------------------------------------------------------------
    def run(self, parent_pid: int | None = None) -> None:
        try:
            while not self.stop.is_set():
                if parent_pid is not None and os.getppid() != parent_pid:
                    break
                try:
                    busy = self.step()
                except redis.ConnectionError as exc:
                    log.warning("redis unavailable (%s); retrying", exc)
                    time.sleep(1)
                    continue
                if not busy:  # wake as soon as a batch finishes, or look for work again
                    if self.batches:
                        wait([b.future for b in self.batches], 0.1, FIRST_COMPLETED)
                    else:
                        time.sleep(0.1)
        finally:
            for ex in {id(e): e for e in self._all_executors()}.values():
                ex.shutdown(wait=False, cancel_futures=True)

    def _all_executors(self) -> list[Executor]:
        return [r.executor for r in self.runs.values()] + list(self._shared.values())

    def step(self) -> bool:
        """One round: collect finished batches, take new work, finish runs. Returns
        whether anything happened."""
        busy = self._collect()
        active = sorted(m.decode() for m in self.r.smembers(keys.XTRACT_ACTIVE))
        for cid in set(self.runs) - set(active):
            self._forget(cid)
        room = self.settings.extract_batches_in_flight - len(self.batches)
        for cid in active:
            run = self._run(cid)
            if run is None:
                continue
            if room > 0:
                taken = self._take(run, room)
                room -= taken
                busy = busy or bool(taken)
            if not run.entries:
                self.store.finish_if_done(cid)
        return busy

    # -- taking work --------------------------------------------------------------------
    def _run(self, crawl_id: str) -> Run | None:
        if crawl_id in self.runs:
            return self.runs[crawl_id]
        try:
            options, secrets = self.store.options(crawl_id)
            executor = self._executor(options, secrets)
        except Exception as exc:
            log.exception("extraction of %s cannot start", crawl_id)
            self.r.hset(keys.xtract(crawl_id), mapping={"message": f"cannot start: {exc}"})
            self.store.advance(crawl_id, "FAILED")
            self.r.srem(keys.XTRACT_ACTIVE, crawl_id)
            return None
        owner = (self.r.hget(keys.xtract(crawl_id), "owner") or b"").decode()
        containers: dict[str, str] = {}
        if options.get("funcx_ep_id"):
            raw = self.r.hgetall(keys.containers(owner, options["funcx_ep_id"]))
            containers = {k.decode(): v.decode() for k, v in raw.items()}
        run = Run(crawl_id, options, executor, containers, Path(options["local_mdata_path"]))
        self.runs[crawl_id] = run
        return run

    def _executor(self, options: dict[str, Any], secrets: dict[str, str]) -> Executor:
        name = options["executor"]
        s = self.settings
        if name == "globus-compute":
            return make_executor(
                name,
                endpoint_id=options["funcx_ep_id"],
                token=secrets.get("compute_token"),
                poll_seconds=s.compute_poll_seconds,
            )
        if name not in self._shared:  # one pool (or one Parsl DFK) per process
            # started when the first extraction needs it, so a service that only crawls
            # spends no CPU on extraction processes; all of them start at once
            self._shared[name] = make_executor(
                name,
                workers=s.extract_workers,
                run_dir=s.home / "parsl",
                config_file=s.parsl_config,
                warm=(s.extract_time_limit, s.extract_memory_limit, s.extract_max_calls),
            )
        return self._shared[name]

    def _forget(self, crawl_id: str) -> None:
        run = self.runs.pop(crawl_id)
        if run.executor not in self._shared.values():
            run.executor.shutdown(wait=False, cancel_futures=True)

    def _take(self, run: Run, room: int) -> int:
        """Submit batches from new (or abandoned) stream entries; returns how many."""
        entries = self._reclaim(run) or self._read(run)
        submitted = 0
        for entry_id, payload in entries:
            families = (
                list(families_of(payload)) if payload[:1] != b"R" else json.loads(payload[1:])
            )
            self.store.advance(run.crawl_id, "IN_SCHEDULING")
            self.store.count(run.crawl_id, orch_enter=len(families))
            done = self.store.recorded(run.crawl_id, [f["family_id"] for f in families])
            todo = [f for f in families if f["family_id"] not in done]
            self.store.count(run.crawl_id, pulled=len(todo))
            batches = self._cut(run, todo)
            if not batches:
                self.r.xack(keys.families(run.crawl_id), keys.XTRACT_GROUP, entry_id)
                continue
            run.entries[entry_id] = len(batches)
            for fams in batches:
                self._submit(run, entry_id, fams)
                submitted += 1
        return max(submitted, len(entries))  # entries already recorded count as activity

    def _read(self, run: Run) -> list[tuple[str, bytes]]:
        reply = self.r.xreadgroup(
            keys.XTRACT_GROUP, self.name, {keys.families(run.crawl_id): ">"}, count=1
        )
        return [(eid.decode(), _payload(f)) for _, entries in reply or [] for eid, f in entries]

    def _reclaim(self, run: Run) -> list[tuple[str, bytes]]:
        now = time.monotonic()
        idle = self.settings.claim_idle_seconds
        if now - run.last_reclaim < min(idle / 2, 5.0):
            return []
        run.last_reclaim = now
        reply = self.r.xautoclaim(
            keys.families(run.crawl_id),
            keys.XTRACT_GROUP,
            self.name,
            int(idle * 1000),
            "0-0",
            count=1,
        )
        return [
            (eid.decode(), _payload(f))
            for eid, f in reply[1]
            if f and eid.decode() not in run.entries
        ]

    def _cut(self, run: Run, families: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Batches of about ``batch_files`` files; for Globus Compute, one container's
        families per batch."""
        per = int(run.options.get("batch_files") or self.settings.extract_batch_files)
        keyed: dict[str | None, list[list[dict[str, Any]]]] = {}
        sizes: dict[str | None, int] = {}
        for fam in families:
            key = self._container_key(run, fam)
            bucket = keyed.setdefault(key, [[]])
            if bucket[-1] and sizes.get(key, 0) + len(fam["files"]) > per:
                bucket.append([])
                sizes[key] = 0
            bucket[-1].append(fam)
            sizes[key] = sizes.get(key, 0) + len(fam["files"])
        return [b for buckets in keyed.values() for b in buckets if b]

    def _container_key(self, run: Run, family: dict[str, Any]) -> str | None:
        if run.options["executor"] != "globus-compute":
            return None
        for group in family.get("groups", []):
            fam = container_family(group.get("extractor"))
            if fam:
                return fam
        return None

    def _submit(self, run: Run, entry_id: str, families: list[dict[str, Any]]) -> None:
        o = run.options
        if o["executor"] == "globus-compute":
            key = self._container_key(run, families[0])
            uri = run.containers.get(key or "") or run.containers.get("default")
            run.executor.user_endpoint_config = container_config(uri)  # type: ignore[attr-defined]
        future = run.executor.submit(
            extract_batch,
            families,
            only=o.get("extractors"),
            add=o.get("add") or [],
            params=o.get("params") or {},
            time_limit=o["time_limit"],
            memory_limit=o["memory_limit"],
            max_calls=self.settings.extract_max_calls,
        )
        self.batches.append(Batch(run.crawl_id, entry_id, families, future))
        self.store.count(run.crawl_id, scheduled=len(families))
        self.store.advance(run.crawl_id, "SCHEDULED")

    # -- results --------------------------------------------------------------------------
    def _collect(self) -> bool:
        done = [b for b in self.batches if b.future.done()]
        for b in done:
            self.batches.remove(b)
            self._finish(b)
        return bool(done)

    def _finish(self, batch: Batch) -> None:
        run = self.runs.get(batch.crawl_id)
        if run is None:
            return
        try:
            docs = batch.future.result()
            ok = [True] * len(docs)
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("a batch of crawl %s failed: %s", batch.crawl_id, reason)
            docs = [failed_document(f, reason) for f in batch.families]
            ok = [False] * len(docs)
        stamp = time.time()
        for doc in docs:
            doc.update(
                crawl_id=batch.crawl_id, executor=run.options["executor"], extracted_at=stamp
            )
        write_documents(run.out_dir, docs)
        recorded = self.store.record(batch.crawl_id, docs, ok)
        for doc, good in zip(docs, ok, strict=True):
            if doc["family_id"] in recorded:
                kind = "family.extracted" if good else "family.failed"
                publish(self.r, batch.crawl_id, kind, family_id=doc["family_id"], document=doc)
        self.store.advance(batch.crawl_id, "EXTRACTING")
        left = run.entries.get(batch.entry_id, 1) - 1
        if left <= 0:
            run.entries.pop(batch.entry_id, None)
            self.r.xack(keys.families(batch.crawl_id), keys.XTRACT_GROUP, batch.entry_id)
        else:
            run.entries[batch.entry_id] = left
