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
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any

import redis

from xtract_sdk.status import EventType, XtractStatus
from xtract_service import crawl_record, keys
from xtract_service.crawl.families import Family, families_of
from xtract_service.errors import NotFound
from xtract_service.events import publish, publish_many
from xtract_service.extraction.content import RedisContentCache
from xtract_service.extraction.documents import (
    Document,
    checked_remote,
    failed_document,
    labelled,
    remove_leftovers,
    write_documents,
)
from xtract_service.extraction.executors import BatchExecutor, ExecutorSetup, executor_class
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.extraction.staging import staged_executor
from xtract_service.globus import tokens
from xtract_service.globus.ratelimit import owner_bucket
from xtract_service.redis_client import Entry
from xtract_service.settings import Settings
from xtract_service.streams import Consumer, consumer_name, fair_order

log = logging.getLogger(__name__)


@dataclass
class Run:
    """What this orchestrator knows of one crawl's extraction."""

    crawl_id: str
    options: dict[str, Any]
    executor: BatchExecutor
    out_dir: str
    out_root: str  # the folder beneath which out_dir is opened
    entries: dict[str, int] = field(default_factory=dict)  # stream entry -> batches left
    since: str | None = None  # the crawl whose documents unchanged families carry forward

    @property
    def stream(self) -> str:
        return keys.families(self.crawl_id)


@dataclass
class Batch:
    crawl_id: str
    entry_id: str
    families: list[Family]
    future: Future[Any]


def _paths(doc: Document | Family) -> set[str]:
    return {r["path"] for r in doc.get("files", [])}


def families_in(entry: Entry) -> list[Family]:
    """The families of a families stream entry: a crawl's block, or a retry's list."""
    if "retry" in entry.fields:
        retried: list[Family] = json.loads(entry.fields["retry"])
        return retried
    return list(families_of(entry.fields["families"]))


class Orchestrator(Consumer):
    group = keys.XTRACT_GROUP

    def __init__(self, r: redis.Redis, settings: Settings, name: str | None = None) -> None:
        super().__init__(r, name or consumer_name("orchestrator"), settings.claim_idle_seconds)
        self.settings = settings
        self.runs_store = ExtractionRuns(r, settings.vault())
        self.runs: dict[str, Run] = {}
        self.batches: list[Batch] = []
        self._shared: dict[str, BatchExecutor] = {}
        self._turn = 0

    def _owner(self, crawl_id: str) -> str:
        run = self.runs.get(crawl_id)
        return str(run.options.get("owner", "")) if run else ""

    # -- the loop ---------------------------------------------------------------------
    def step(self) -> bool:
        """One round: collect finished batches, take new work, finish runs."""
        busy = self._collect()
        active = self.runs_store.active()
        for cid in set(self.runs) - set(active):
            self._forget(cid)
        room = self.settings.extract_batches_in_flight - len(self.batches)
        self._turn += 1
        for cid in fair_order(active, self._owner, self._turn):
            run = self._run(cid)
            if run is None:
                continue
            if room > 0:
                taken = self._take(run, room)
                room -= taken
                busy = busy or bool(taken)
            if not run.entries:
                self.runs_store.finish_if_done(cid)
        return busy

    def pause(self) -> None:
        """Wake as soon as a batch finishes, or look for work again."""
        if self.batches:
            wait([b.future for b in self.batches], 0.1, FIRST_COMPLETED)
        else:
            time.sleep(0.1)

    def close(self) -> None:
        executors = [r.executor for r in self.runs.values()] + list(self._shared.values())
        for ex in {id(e): e for e in executors}.values():
            ex.shutdown(wait=False, cancel_futures=True)

    # -- taking work --------------------------------------------------------------------
    def _run(self, crawl_id: str) -> Run | None:
        if crawl_id in self.runs:
            return self.runs[crawl_id]
        try:
            options, secrets = self.runs_store.options(crawl_id)
            executor = self._executor(crawl_id, options, secrets)
        except Exception as exc:
            log.exception("extraction of %s cannot start", crawl_id)
            self.runs_store.fail(crawl_id, f"cannot start: {exc}")
            return None
        out_dir = options["local_mdata_path"]
        run = Run(crawl_id, options, executor, out_dir, options.get("output_root") or out_dir)
        run.since = self._since(crawl_id, options)
        try:
            remove_leftovers(run.out_root, run.out_dir)
        except OSError as exc:  # unreachable folder: writing will say so, and fail the run
            log.warning("cannot tidy %s: %s", run.out_dir, exc)
        self.runs[crawl_id] = run
        return run

    def _since(self, crawl_id: str, options: dict[str, Any]) -> str | None:
        """The crawl's ``since`` crawl, if that crawl's extraction asked for the same
        extractors and parameters (else its documents would answer another question,
        and every family is extracted)."""
        spec = crawl_record.spec(self.r, crawl_id)
        since = spec.get("since") if spec else None
        if not since:
            return None
        try:
            before, _ = self.runs_store.options(since)
        except NotFound:
            return None
        same = ("extractors", "add", "params")
        return since if all(before.get(k) == options.get(k) for k in same) else None

    def _executor(
        self, crawl_id: str, options: dict[str, Any], secrets: dict[str, str]
    ) -> BatchExecutor:
        cls = executor_class(options["executor"])
        if options.get("staging"):
            inner = self._plain_executor(crawl_id, options, secrets)
            bucket = owner_bucket(self.r, str(options.get("owner", "")), self.settings)
            plan = options["staging"]
            return staged_executor(
                inner, not cls.shared, crawl_id, plan, secrets, self.settings, bucket
            )
        return self._plain_executor(crawl_id, options, secrets)

    def _plain_executor(
        self, crawl_id: str, options: dict[str, Any], secrets: dict[str, str]
    ) -> BatchExecutor:
        cls = executor_class(options["executor"])
        if cls.shared and cls.name in self._shared:
            return self._shared[cls.name]
        s = self.settings
        endpoint = options.get("funcx_ep_id")
        setup = ExecutorSetup(
            settings=s,
            workers=s.extract_workers,
            run_dir=s.home / "parsl",
            parsl_config=s.parsl_config,
            warm=(s.extract_time_limit, s.extract_memory_limit, s.extract_max_calls),
            limiter=owner_bucket(self.r, str(options.get("owner", "")), s),
            endpoint_id=endpoint,
            token=tokens.kept(secrets, tokens.COMPUTE),
            containers=self.runs_store.containers(crawl_id, endpoint),
        )
        # a shared executor (one pool, one Parsl DFK per process) starts when the first
        # extraction needs it, so a service that only crawls spends no CPU on it
        executor = cls.create(setup)
        if cls.shared:
            self._shared[cls.name] = executor
        return executor

    def _forget(self, crawl_id: str) -> None:
        run = self.runs.pop(crawl_id)
        self.forget_stream(run.stream)
        if run.executor not in self._shared.values():
            run.executor.shutdown(wait=False, cancel_futures=True)

    def _take(self, run: Run, room: int) -> int:
        """Submit batches from new (or abandoned) stream entries; returns how many."""
        entries = self.claim(run.stream, 1, held=run.entries) or self.read([run.stream], 1)
        store = self.runs_store
        submitted = 0
        for entry in entries:
            families = families_in(entry)
            store.advance(run.crawl_id, XtractStatus.IN_SCHEDULING)
            done = store.results.recorded(run.crawl_id, [f["family_id"] for f in families])
            todo = [f for f in families if f["family_id"] not in done]
            if store.first_take(run.crawl_id, entry.id):  # a redelivered entry counts once
                store.count(
                    run.crawl_id, orch_enter=len(families), pulled=len(todo), scheduled=len(todo)
                )
            carried = self._carry(run, todo)
            todo = [f for f in todo if f["family_id"] not in carried]
            batches = self._cut(run, todo)
            if not batches:
                self.ack(run.stream, entry.id)
                continue
            run.entries[entry.id] = len(batches)
            self.hold(run.stream, entry.id)
            for key, fams in batches:
                self._submit(run, entry.id, key, fams)
                submitted += 1
        return max(submitted, len(entries))  # entries already recorded count as activity

    def _carry(self, run: Run, families: list[Family]) -> set[str]:
        """Record, unread, the families a ``since`` crawl found unchanged: the earlier
        crawl's document, renamed to the new family and crawl. A family whose earlier
        document is missing, or covered other files, or that has a file of at most
        ``XTRACT_SINCE_CONTENT_BYTES``, is extracted (the last by content id: the
        content cache answers when the bytes are the same). Returns the ids recorded
        here."""
        if run.since is None:
            return set()
        prior = {f["family_id"]: f["prior"] for f in families if "prior" in f}
        if not prior:
            return set()
        found = self.runs_store.results.documents_of(run.since, sorted(set(prior.values())))
        docs: list[Document] = []
        small = self.settings.since_content_bytes
        for fam in families:
            before = found.get(prior.get(fam["family_id"], ""))
            if before is None or _paths(before) != _paths(fam):
                continue
            if any(int(f.get("size") or 0) <= small for f in fam["files"]):
                continue  # its content id decides (the content cache), not its listing
            doc: Document = {
                **before,
                "family_id": fam["family_id"],
                "files": fam["files"],
                "groups": fam["groups"],
                "carried_from": run.since,
            }
            docs.append(doc)
        if docs:
            self._deliver(run, docs, [True] * len(docs))
        return {d["family_id"] for d in docs}

    def _cut(self, run: Run, families: list[Family]) -> list[tuple[str | None, list[Family]]]:
        """Batches of about ``batch_files`` files, each of one executor batch key."""
        per = int(run.options.get("batch_files") or self.settings.extract_batch_files)
        keyed: dict[str | None, list[list[Family]]] = {}
        sizes: dict[str | None, int] = {}
        for fam in families:
            key = run.executor.batch_key(fam)
            bucket = keyed.setdefault(key, [[]])
            if bucket[-1] and sizes.get(key, 0) + len(fam["files"]) > per:
                bucket.append([])
                sizes[key] = 0
            bucket[-1].append(fam)
            sizes[key] = sizes.get(key, 0) + len(fam["files"])
        return [(key, b) for key, buckets in keyed.items() for b in buckets if b]

    def _cache(self, run: Run) -> dict[str, Any]:
        """The owner's content cache, for executors whose workers run in this process
        (a Compute or Parsl worker cannot reach Redis; its batch still reads each
        distinct content once, and what it read is not kept)."""
        if not run.executor.in_process:
            return {}
        return {"cache": RedisContentCache(self.r, str(run.options.get("owner", "")))}

    def _submit(self, run: Run, entry_id: str, key: str | None, families: list[Family]) -> None:
        o = run.options
        future = run.executor.submit_batch(
            key,
            families,
            only=o.get("extractors"),
            add=o.get("add") or [],
            params=o.get("params") or {},
            time_limit=o["time_limit"],
            memory_limit=o["memory_limit"],
            max_calls=self.settings.extract_max_calls,
            roots=o.get("roots"),
            follow_links=bool(o.get("follow_links")),
            **self._cache(run),
        )
        self.batches.append(Batch(run.crawl_id, entry_id, families, future))
        self.runs_store.advance(run.crawl_id, XtractStatus.SCHEDULED)

    # -- results --------------------------------------------------------------------------
    def _collect(self) -> bool:
        done = [b for b in self.batches if b.future.done()]
        for b in done:
            self.batches.remove(b)
            self._finish(b)
        return bool(done)

    def _deliver(self, run: Run, docs: list[Document], ok: list[bool]) -> bool:
        """Write a run's documents to its folder, record each exactly once and tell
        watchers; False (and the run failed) if the folder cannot be written."""
        for doc in docs:
            doc["crawl_id"] = run.crawl_id
            doc["executor"] = run.options["executor"]
            doc["groups"] = labelled(doc.get("groups", []), doc.get("metadata", {}))
        try:
            write_documents(run.out_root, run.out_dir, docs)
        except OSError as exc:  # the folder went away or was swapped for a link
            log.error("documents of crawl %s cannot be written: %s", run.crawl_id, exc)
            self.runs_store.fail(run.crawl_id, f"cannot write to {run.out_dir}: {exc}")
            return False
        owner = str(run.options.get("owner", ""))
        recorded = self.runs_store.results.record(run.crawl_id, docs, ok, owner)
        for event, good in ((EventType.FAMILY_EXTRACTED, True), (EventType.FAMILY_FAILED, False)):
            each = [
                {"family_id": d["family_id"], "document": d}
                for d, g in zip(docs, ok, strict=True)
                if g is good and d["family_id"] in recorded
            ]
            if each:
                publish_many(self.r, run.crawl_id, event, each)
        self.runs_store.advance(run.crawl_id, XtractStatus.EXTRACTING)
        if self.r.set(keys.xtract_progress_gate(run.crawl_id), 1, nx=True, px=1000):
            s = self.runs_store.status(run.crawl_id, None)
            publish(
                self.r,
                run.crawl_id,
                EventType.XTRACT_PROGRESS,
                counters=s["xtract_counters"],
                files_extracted=s["files_extracted"],
                forecast=s["forecast"],
            )
        return True

    def _finish(self, batch: Batch) -> None:
        run = self.runs.get(batch.crawl_id)
        if run is None:
            return
        docs: list[Document]
        try:
            docs = batch.future.result()
            if not run.executor.in_process:  # answered from outside: checked like a request
                docs = checked_remote(docs, batch.families)
            ok = [True] * len(docs)
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("a batch of crawl %s failed: %s", batch.crawl_id, reason)
            docs = [failed_document(f, reason) for f in batch.families]
            ok = [False] * len(docs)
        stamp = time.time()
        for doc in docs:
            doc["extracted_at"] = stamp
        # answers from outside this process never enter the owner's content cache: an
        # endpoint the caller chose must not decide what later local reads find there
        if not self._deliver(run, docs, ok):
            return
        left = run.entries.get(batch.entry_id, 1) - 1
        if left <= 0:
            run.entries.pop(batch.entry_id, None)
            self.ack(run.stream, batch.entry_id)
            self.release(run.stream, batch.entry_id)
        else:
            run.entries[batch.entry_id] = left
