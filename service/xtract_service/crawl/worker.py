"""The crawl worker: takes directories off the frontier, lists them, groups their
files into families, and commits the results, breadth-first and many at a time.

Run inside ``xtract serve`` (which supervises a few of these processes) or on any host
that reaches the same Redis with ``xtract worker``. Any worker may die at any moment:
what it held is claimed by another after ``claim_idle_seconds``, and the store's atomic
commit makes a directory listed twice count once.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import NamedTuple

import redis

from xtract_sdk.status import CrawlStatus, EventType
from xtract_service import actives, crawl_record, keys
from xtract_service.crawl.changes import Since, index_entry, refused
from xtract_service.crawl.families import (
    Block,
    counts,
    family_refs,
    make_blocks,
    normalize,
    pack,
)
from xtract_service.crawl.groupers import GROUPERS
from xtract_service.crawl.repos import Fallback, Listing, Repo, list_tree, make_repo
from xtract_service.crawl.shape import Shape
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import Commit, CrawlNotFound, CrawlStore
from xtract_service.crawl.stores import absorb_stores, store_family
from xtract_service.crawl_record import CHANGE_CLASSES
from xtract_service.events import publish
from xtract_service.globus.ratelimit import owner_bucket
from xtract_service.redis_client import Entry, entries_of, members, text
from xtract_service.settings import Settings
from xtract_service.streams import Consumer, consumer_name, fair_order

log = logging.getLogger(__name__)


class Work(NamedTuple):
    crawl_id: str
    entry_id: str
    dirs: list[str]


def _work(entry: Entry) -> Work:
    return Work(keys.crawl_id_of(entry.stream), entry.id, json.loads(entry.fields["dirs"]))


@dataclass
class Walked:
    """What one frontier entry's listings add besides their files: the folders' index
    fields, the ``since`` comparison, folders a walker listed beyond the entry's, and
    the frontier's shape per depth (:mod:`xtract_service.crawl.shape`)."""

    index: list[tuple[str, bytes]] = field(default_factory=list)
    since: Since | None = None
    extra: list[str] = field(default_factory=list)
    levels: list[list[int]] = field(default_factory=list)


class CrawlWorker(Consumer):
    """One worker process's loop: many listings in flight on a thread pool."""

    group = keys.DIR_GROUP

    def __init__(self, r: redis.Redis, settings: Settings, name: str | None = None) -> None:
        super().__init__(r, name or consumer_name("crawl"), settings.claim_idle_seconds)
        self.settings = settings
        self.store = CrawlStore(
            r,
            dirs_per_entry=settings.dirs_per_entry,
            error_cap=settings.error_samples,
            vault=settings.vault(),
        )
        self.slots = max(1, settings.listings_in_flight)
        self.local_slots = max(1, min(self.slots, settings.local_listings_in_flight))
        self.pool = ThreadPoolExecutor(self.slots, thread_name_prefix="xtract-list")
        self.running: dict[Future[None], bool] = {}  # future -> is a local listing
        self._repos: dict[str, tuple[Repo, CrawlSpec, int]] = {}
        self._owners: dict[str, str] = {}
        self._turn = 0
        self._repaired = time.monotonic()  # the first repair a while after start
        last = r.xrevrange(keys.CRAWL_WAKE, count=1)
        self._woken = text(last[0][0]) if last else "0-0"
        # the groupers load the extractor registry on first use (~30 ms): done now, so a
        # new worker's first listing is not the one that lags behind the crawl's level
        for grouper in GROUPERS.values():
            grouper("/", [["warm.txt", 0, 0.0]])

    # -- the loop ---------------------------------------------------------------------
    def step(self) -> bool:
        if time.monotonic() - self._repaired > actives.REPAIR_SECONDS:
            self._repaired = time.monotonic()
            for cid in actives.repair(self.r):
                log.warning("crawl %s was running but on no active set: put back", cid)
        self.running = {f: loc for f, loc in self.running.items() if not f.done()}
        free = self.slots - len(self.running)
        if free <= 0:
            wait(self.running, timeout=0.5, return_when=FIRST_COMPLETED)
            return True
        free_local = self.local_slots - sum(self.running.values())
        work = self._next_entries(free, free_local, idle=not self.running)
        for item in work:
            self.hold(keys.dirs(item.crawl_id), item.entry_id)
            future = self.pool.submit(self._process, item)
            self.running[future] = self._is_local(item.crawl_id)
        if not work and self.running:
            wait(self.running, timeout=0.05, return_when=FIRST_COMPLETED)
        return True  # reads block (or sleep) while there is nothing to do

    def close(self) -> None:
        wait(self.running)
        self.pool.shutdown()

    def _is_local(self, crawl_id: str) -> bool:
        try:
            return self._repo(crawl_id)[1].repo_type == "local"
        except CrawlNotFound:
            return False

    def _next_entries(self, free: int, free_local: int, idle: bool) -> list[Work]:
        """Entries to list next: reclaimed ones first, then new ones. Local listings are
        CPU-bound, so a process runs only ``local_listings_in_flight`` of them at once
        (more cores means more processes); remote ones wait on the network, so many."""
        active = sorted(members(self.r, keys.ACTIVE))
        self._forget_inactive(active)
        if not active:
            self._await_crawl()
            return []
        self._turn += 1
        active = fair_order(active, self._owner, self._turn)
        work = self._reclaim(active, free)
        if work:
            return work
        if idle:  # block until anything arrives (a crawl created meanwhile: 50 ms)
            return self._read(active, 1, block_ms=50)
        local = [c for c in active if self._is_local(c)]
        remote = [c for c in active if c not in local]
        work += self._fairly(local, free_local)
        work += self._fairly(remote, free - len(work))
        return work

    def _await_crawl(self) -> None:
        """Block until a crawl is created (at most 2 s), without a fixed sleep: every
        created crawl adds an entry to the wake stream, newer than the last one seen."""
        reply = self.r.xread({keys.CRAWL_WAKE: self._woken}, count=100, block=2000)
        for entry in entries_of(reply):
            self._woken = entry.id

    def _fairly(self, crawls: list[str], slots: int) -> list[Work]:
        """New entries for ``slots`` listings, from the first crawls in fair order (one
        each when there are more crawls than slots)."""
        if slots <= 0 or not crawls:
            return []
        picked = crawls[:slots]
        return self._read(picked, max(1, slots // len(picked)), block_ms=None)

    def _owner(self, crawl_id: str) -> str:
        if crawl_id not in self._owners:
            self._owners[crawl_id] = crawl_record.owner(self.r, crawl_id) or ""
        return self._owners[crawl_id]

    def _read(self, crawl_ids: list[str], count: int, block_ms: int | None) -> list[Work]:
        try:
            entries = self.read([keys.dirs(cid) for cid in crawl_ids], count, block_ms)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._drop_dead(crawl_ids)
            return []
        return [_work(e) for e in entries]

    def _reclaim(self, active: list[str], count: int) -> list[Work]:
        """Take over entries a silent worker has held longer than the claim idle time."""
        work: list[Work] = []
        for cid in active:
            try:
                entries = self.claim(keys.dirs(cid), count - len(work))
            except redis.ResponseError:
                continue
            for e in entries:
                log.info("reclaimed %s of crawl %s", e.id, cid)
            work += [_work(e) for e in entries]
            if len(work) >= count:
                break
        return work

    def _drop_dead(self, active: list[str]) -> None:
        """A crawl in the active set without a frontier was stopped: forget it."""
        for cid in active:
            stopped = self.store.status_word(cid) != CrawlStatus.CRAWLING
            if stopped and not self.r.exists(keys.dirs(cid)):
                self.r.srem(keys.ACTIVE, cid)

    def _forget_inactive(self, active: list[str]) -> None:
        for cid in set(self._repos) - set(active):
            self._repos.pop(cid)[0].close()
            self._owners.pop(cid, None)
            self.forget_stream(keys.dirs(cid))

    # -- one frontier entry -------------------------------------------------------------
    def _repo(self, crawl_id: str) -> tuple[Repo, CrawlSpec, int]:
        if crawl_id not in self._repos:
            spec, secrets, per = self.store.spec(crawl_id)
            limiter = None
            if spec.repo_type == "globus":
                limiter = owner_bucket(self.r, self._owner(crawl_id), self.settings)
            repo = make_repo(spec, secrets, self.settings, limiter, self._fallback(crawl_id))
            self._repos[crawl_id] = (repo, spec, per)
        return self._repos[crawl_id]

    def _fallback(self, crawl_id: str) -> Fallback:
        """A Compute-listed crawl that falls back to Transfer says so once (an event),
        and its other workers follow."""

        def tell(reason: str) -> None:
            if self.store.fall_back(crawl_id, reason):
                log.warning("crawl %s falls back to Transfer listings: %s", crawl_id, reason)
                publish(
                    self.r,
                    crawl_id,
                    EventType.CRAWL_FALLBACK,
                    lister="transfer",
                    instead_of="compute",
                    reason=reason,
                )

        return Fallback(tell, lambda: self.store.fallen_back(crawl_id))

    def _process(self, work: Work) -> None:
        try:
            self._list(work)
        finally:
            self.release(keys.dirs(work.crawl_id), work.entry_id)

    def _list(self, work: Work) -> None:
        try:
            repo, spec, per = self._repo(work.crawl_id)
        except CrawlNotFound:
            return
        try:
            self._list_and_commit(work, repo, spec, per)
        except redis.RedisError:
            log.exception(
                "could not commit %s of crawl %s; it will be redelivered",
                work.entry_id,
                work.crawl_id,
            )
        except Exception as exc:  # a bug must cost one entry, not the crawl
            log.exception("listing %s of crawl %s failed", work.dirs, work.crawl_id)
            errors = [{"path": d, "error": f"internal error: {exc!r}"} for d in work.dirs]
            self._commit(work, Listing(errors=errors, unreadable=len(work.dirs)), [], per)

    def _list_and_commit(self, work: Work, repo: Repo, spec: CrawlSpec, per: int) -> None:
        group = GROUPERS[spec.grouper]
        per_entry = self.settings.records_per_entry
        total = Listing()
        blocks: list[Block] = []
        index: list[tuple[str, bytes]] = []
        pairs = list_tree(repo, work.dirs)
        stores = absorb_stores(repo, pairs)  # a Zarr or N5 store: one family
        listed = {d for d, _ in pairs}
        # BASE's entries for every folder listed, those a walker listed on the way too
        since = Since(self.r, spec.since, [d for d, _ in pairs]) if spec.since else None
        shape = Shape(spec.dirs)
        for d, listing in pairs:
            shape.add(d, listing)
            mine: list[Block] = []
            if listing.files:
                found = store_family(len(listing.files)) if d in stores else group(d, listing.files)
                grouped = normalize(found, len(listing.files))
                mine = make_blocks(d, listing.files, grouped, per_entry)
            if self.settings.crawl_index and not refused(listing):
                index.append((d, index_entry(listing, [family_refs(b) for b in mine])))
            if since is not None:
                since.add(d, listing, mine)
            blocks += mine
            total.subdirs += [s for s in listing.subdirs if s[1] not in listed]
            total.errors += listing.errors
            total.links_skipped += listing.links_skipped
            total.unreadable += listing.unreadable
        walked = Walked(
            index=index,
            since=since,
            extra=[d for d in listed if d not in work.dirs],  # listed on the way down
            levels=shape.levels(),
        )
        self._commit(work, total, blocks, per, walked)

    def _commit(
        self,
        work: Work,
        listing: Listing,
        blocks: list[Block],
        per: int,
        walked: Walked | None = None,
    ) -> None:
        walked = walked or Walked()
        commit = Commit(
            crawl_id=work.crawl_id,
            worker=self.name,
            done=len(work.dirs),
            per_entry=per,
            subdirs=listing.subdirs,
            extra=walked.extra,
            levels=walked.levels,
            links_skipped=listing.links_skipped,
            unreadable=listing.unreadable,
            errors=listing.errors,
            bytes=sum(row[4] for row in walked.levels),  # the shape summed every file's size
        )
        for b in blocks:
            n, f, g = counts(b)
            commit.files, commit.families, commit.groups = (
                commit.files + n,
                commit.families + f,
                commit.groups + g,
            )
        since = walked.since
        paths = b""
        if since is not None:
            commit.added, commit.changed = len(since.added), len(since.changed)
            commit.removed, commit.unchanged = len(since.removed), since.unchanged
            paths = since.paths()
        family_batches = pack(blocks, self.settings.records_per_entry)
        pending = self.store.commit(work.entry_id, commit, family_batches, walked.index, paths)
        if pending >= 0:  # else another worker had already committed this entry
            self._publish(commit, pending, since is not None)

    def _publish(self, commit: Commit, pending: int, since: bool = False) -> None:
        cid = commit.crawl_id
        if commit.families:
            publish(
                self.r,
                cid,
                EventType.FAMILY_FOUND,
                families=commit.families,
                files=commit.files,
                dirs=commit.done,
            )
        gate_open = self.r.set(keys.progress_gate(cid), 1, nx=True, px=1000)
        if not gate_open and pending != 0:
            return
        c, status = self.store.progress(cid)
        # a since crawl's events carry its classes so far: {added, changed, removed, unchanged}
        changes = {"changes": {k: c[k] for k in CHANGE_CLASSES}} if since else {}
        if gate_open:
            publish(
                self.r,
                cid,
                EventType.CRAWL_PROGRESS,
                files_crawled=c["files"],
                bytes_crawled=c["bytes"],
                dirs_crawled=c["dirs_done"],
                dirs_pending=c["dirs_pending"],
                forecast=self.store.forecast(cid, c),
                **changes,
            )
        if pending == 0 and status == CrawlStatus.COMPLETE:
            publish(self.r, cid, EventType.CRAWL_COMPLETED, files_crawled=c["files"], **changes)
        elif pending == 0 and status == CrawlStatus.FAILED:
            publish(self.r, cid, EventType.CRAWL_FAILED, reason="no folder could be read")
