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
import os
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import redis

from xtract_service.crawl import keys
from xtract_service.crawl.families import Block, counts, make_blocks, normalize, pack
from xtract_service.crawl.groupers import GROUPERS
from xtract_service.crawl.repos import Listing, Repo
from xtract_service.crawl.repos.globus import GlobusRepo
from xtract_service.crawl.repos.local import LocalRepo
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import CrawlNotFound, CrawlStore
from xtract_service.notify import publish
from xtract_service.settings import Settings

log = logging.getLogger(__name__)

Work = tuple[str, str, list[str]]  # crawl id, frontier entry id, directories


def make_repo(spec: CrawlSpec, secrets: dict[str, str], settings: Settings) -> Repo:
    if spec.repo_type == "globus":
        return GlobusRepo(
            spec.globus_ep_id or "",
            secrets.get("transfer_token"),
            page_size=settings.globus_page_size,
            max_retries=settings.globus_max_retries,
            max_sleep=settings.globus_max_sleep,
            skip=spec.skip,
        )
    return LocalRepo(spec.dirs, skip=spec.skip, follow_symlinks=spec.follow_symlinks)


class CrawlWorker:
    """One worker process's loop. ``run()`` returns when ``stop`` is set."""

    def __init__(self, r: redis.Redis, settings: Settings, name: str | None = None) -> None:
        self.r = r
        self.settings = settings
        self.store = CrawlStore(
            r, dirs_per_entry=settings.dirs_per_entry, error_cap=settings.error_samples
        )
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.stop = threading.Event()
        self._repos: dict[str, tuple[Repo, CrawlSpec, int]] = {}
        self._last_reclaim = 0.0
        self.entries_done = 0

    # -- the loop ---------------------------------------------------------------------
    def run(self, parent_pid: int | None = None) -> None:
        slots = max(1, self.settings.listings_in_flight)
        local_slots = max(1, min(slots, self.settings.local_listings_in_flight))
        running: dict[Future[None], bool] = {}  # future -> is a local listing
        with ThreadPoolExecutor(slots, thread_name_prefix="xtract-list") as pool:
            while not self.stop.is_set():
                if parent_pid is not None and os.getppid() != parent_pid:
                    log.warning("service %s went away; worker stopping", parent_pid)
                    break
                running = {f: loc for f, loc in running.items() if not f.done()}
                free = slots - len(running)
                free_local = local_slots - sum(running.values())
                if free <= 0:
                    wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    continue
                try:
                    work = self._next_entries(free, free_local, idle=not running)
                except redis.ConnectionError as exc:
                    log.warning("redis unavailable (%s); retrying", exc)
                    time.sleep(1)
                    continue
                for crawl_id, entry_id, dirs in work:
                    future = pool.submit(self._process, crawl_id, entry_id, dirs)
                    running[future] = self._is_local(crawl_id)
                if not work and running:
                    wait(running, timeout=0.05, return_when=FIRST_COMPLETED)
            wait(running)

    def _is_local(self, crawl_id: str) -> bool:
        try:
            return self._repo(crawl_id)[1].repo_type == "local"
        except CrawlNotFound:
            return False

    def _next_entries(self, free: int, free_local: int, idle: bool) -> list[Work]:
        """Entries to list next: reclaimed ones first, then new ones. Local listings are
        CPU-bound, so a process runs only ``local_listings_in_flight`` of them at once
        (more cores means more processes); remote ones wait on the network, so many."""
        active = sorted(m.decode() for m in self.r.smembers(keys.ACTIVE))
        self._forget_inactive(active)
        if not active:
            time.sleep(0.2)
            return []
        work = self._reclaim(active, free)
        if work:
            return work
        if idle:  # block until anything arrives anywhere
            return self._read(active, 1, block_ms=200)
        local = [c for c in active if self._is_local(c)]
        remote = [c for c in active if c not in local]
        if local and free_local > 0:
            work += self._read(local, free_local, block_ms=None)
        if remote and free - len(work) > 0:
            work += self._read(remote, free - len(work), block_ms=None)
        return work

    def _read(self, crawl_ids: list[str], count: int, block_ms: int | None) -> list[Work]:
        streams = {keys.dirs(cid): ">" for cid in crawl_ids}
        try:
            reply = self.r.xreadgroup(
                keys.DIR_GROUP, self.name, streams, count=count, block=block_ms
            )
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._drop_dead(crawl_ids)
            return []
        work = []
        for stream, entries in reply or []:
            crawl_id = stream.decode().split(":")[2]
            for eid, fields in entries:
                work.append((crawl_id, eid.decode(), json.loads(fields[b"dirs"])))
        return work

    def _reclaim(self, active: list[str], count: int) -> list[Work]:
        """Take over entries a silent worker has held longer than the claim idle time."""
        now = time.monotonic()
        idle = self.settings.claim_idle_seconds
        if now - self._last_reclaim < min(idle / 2, 5.0):
            return []
        self._last_reclaim = now
        work: list[Work] = []
        for cid in active:
            try:
                reply = self.r.xautoclaim(
                    keys.dirs(cid),
                    keys.DIR_GROUP,
                    self.name,
                    int(idle * 1000),
                    "0-0",
                    count=count - len(work),
                )
            except redis.ResponseError:
                continue
            for eid, fields in reply[1]:
                if fields:
                    log.info("reclaimed %s of crawl %s", eid, cid)
                    work.append((cid, eid.decode(), json.loads(fields[b"dirs"])))
            if len(work) >= count:
                break
        return work

    def _drop_dead(self, active: list[str]) -> None:
        """A crawl in the active set without a frontier was stopped: forget it."""
        for cid in active:
            if not self.r.exists(keys.dirs(cid)):
                status = self.r.hget(keys.crawl(cid), "status")
                if status is None or status.decode() != "crawling":
                    self.r.srem(keys.ACTIVE, cid)

    def _forget_inactive(self, active: list[str]) -> None:
        for cid in set(self._repos) - set(active):
            self._repos.pop(cid)[0].close()

    # -- one frontier entry -------------------------------------------------------------
    def _repo(self, crawl_id: str) -> tuple[Repo, CrawlSpec, int]:
        if crawl_id not in self._repos:
            spec, secrets, per = self.store.spec(crawl_id)
            self._repos[crawl_id] = (make_repo(spec, secrets, self.settings), spec, per)
        return self._repos[crawl_id]

    def _process(self, crawl_id: str, entry_id: str, dirs: list[str]) -> None:
        try:
            repo, spec, per = self._repo(crawl_id)
        except CrawlNotFound:
            return
        try:
            self._list_and_commit(crawl_id, entry_id, dirs, repo, spec, per)
        except redis.RedisError:
            log.exception(
                "could not commit %s of crawl %s; it will be redelivered", entry_id, crawl_id
            )
        except Exception as exc:  # a bug must cost one entry, not the crawl
            log.exception("listing %s of crawl %s failed", dirs, crawl_id)
            errors = [{"path": d, "error": f"internal error: {exc!r}"} for d in dirs]
            self._commit(crawl_id, entry_id, dirs, Listing(errors=errors), [], per)

    def _list_and_commit(
        self, crawl_id: str, entry_id: str, dirs: list[str], repo: Repo, spec: CrawlSpec, per: int
    ) -> None:
        group = GROUPERS[spec.grouper]
        per_entry = self.settings.records_per_entry
        total = Listing()
        blocks: list[Block] = []
        for d in dirs:
            listing = repo.list_dir(d)
            if listing.files:
                grouped = normalize(group(d, listing.files), len(listing.files))
                blocks += make_blocks(d, listing.files, grouped, per_entry)
            total.subdirs += listing.subdirs
            total.errors += listing.errors
            total.links_skipped += listing.links_skipped
        self._commit(crawl_id, entry_id, dirs, total, blocks, per)

    def _commit(
        self,
        crawl_id: str,
        entry_id: str,
        dirs: list[str],
        listing: Listing,
        blocks: list[Block],
        per: int,
    ) -> None:
        files = families = groups = nbytes = 0
        for b in blocks:
            n, f, g = counts(b)
            files, families, groups = files + n, families + f, groups + g
            nbytes += sum(e[1] for e in b["files"])
        pending = self.store.commit(
            crawl_id,
            entry_id,
            dirs_done=len(dirs),
            subdirs=listing.subdirs,
            family_batches=pack(blocks, self.settings.records_per_entry),
            files=files,
            nbytes=nbytes,
            groups=groups,
            families=families,
            links_skipped=listing.links_skipped,
            errors=listing.errors,
            dirs_per_entry=per,
            worker=self.name,
        )
        self.entries_done += 1
        self._publish(crawl_id, pending, files, families, len(dirs))

    def _publish(self, crawl_id: str, pending: int, files: int, families: int, dirs: int) -> None:
        if pending < 0:
            return  # another worker had already committed this entry
        if families:
            publish(self.r, crawl_id, "family.found", families=families, files=files, dirs=dirs)
        gate_open = self.r.set(keys.progress_gate(crawl_id), 1, nx=True, px=1000)
        if not gate_open and pending != 0:
            return
        h = self.r.hmget(
            keys.crawl(crawl_id), "files", "bytes", "dirs_done", "dirs_pending", "status"
        )
        files_crawled, nbytes, done, waiting = (int(x or 0) for x in h[:4])
        if gate_open:
            publish(
                self.r,
                crawl_id,
                "crawl.progress",
                files_crawled=files_crawled,
                bytes_crawled=nbytes,
                dirs_crawled=done,
                dirs_pending=waiting,
            )
        if pending == 0 and h[4] == b"complete":
            publish(self.r, crawl_id, "crawl.completed", files_crawled=files_crawled)
