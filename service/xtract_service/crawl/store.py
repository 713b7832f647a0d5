"""The crawl store: creating crawls, committing listings, reading status, stopping.

All writes a worker makes for one frontier entry (new sub-directories, families,
counters, errors, the acknowledgement) happen in one Lua script (``crawl_commit``), so
they land together or not at all. The script first acknowledges the entry; if another
worker already did (a redelivered entry finished twice), it writes nothing, so no file
is counted twice.
"""

from __future__ import annotations

import builtins
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from xtract_sdk.status import CrawlStatus, EventType
from xtract_service import crawl_record, keys, scripts
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl_record import CHANGE_CLASSES, CrawlRecord
from xtract_service.errors import NotFound
from xtract_service.events import publish
from xtract_service.forecast import crawl_forecast
from xtract_service.redis_client import Mapping, hash_of, number, text
from xtract_service.streams import create_group
from xtract_service.vault import Vault, opened_secrets, sealed

_TERMINAL = sorted(CrawlStatus.terminal())
# New sub-directories go on the frontier in entries of at most ``dirs_per_entry``, and
# small enough that the frontier holds about this many entries: a tree's narrow first
# levels are shared among the workers instead of listed by one.
FRONTIER_SPREAD = 16


class CrawlNotFound(NotFound):
    """No crawl with this id belongs to the caller."""

    code = "crawl_not_found"


def valid_key(crawl_id: str) -> str:
    """The crawl's hash key; CrawlNotFound for an id that is not a UUID."""
    try:
        uuid.UUID(crawl_id)
    except ValueError:
        raise CrawlNotFound(f"{crawl_id!r} is not a crawl id (crawl ids are UUIDs)") from None
    return keys.crawl(crawl_id)


def _owned(h: dict[str, str], crawl_id: str, owner: str | None) -> CrawlRecord:
    """The crawl whose hash is ``h`` if it exists and ``owner`` owns it (None: any owner)."""
    if not h or (owner is not None and h.get("owner") != owner):
        raise CrawlNotFound(f"no crawl {crawl_id} belongs to you")
    return CrawlRecord.parse(crawl_id, h)


def _changes(spec: dict[str, Any], counts: dict[str, int], by_owner: bool) -> dict[str, Any]:
    """A since crawl's ``changes``: ``{since, added, changed, removed, unchanged}``
    (``since`` for the owner only)."""
    if not spec.get("since"):
        return {}
    base = {"since": spec["since"]} if by_owner else {}
    return {"changes": {**base, **{c: counts[c] for c in CHANGE_CLASSES}}}


def _lister(rec: CrawlRecord) -> dict[str, Any]:
    """How a Globus crawl is listed: ``compute`` (next to the data) or ``transfer``, and
    why a Compute-listed crawl fell back."""
    if rec.spec["repo_type"] != "globus":
        return {}
    if not rec.spec.get("funcx_ep_id"):
        return {"lister": "transfer"}
    if rec.fallback:
        return {"lister": "transfer", "fallback_reason": rec.fallback}
    return {"lister": "compute"}


def status_reads(pipe: Any, crawl_id: str, error_samples: int = 20) -> None:
    """Queue on ``pipe`` (a pipeline, sync or asyncio) the four reads a status document
    is made of, for :func:`status_document`."""
    pipe.hgetall(valid_key(crawl_id))
    pipe.lrange(keys.errors(crawl_id), 0, error_samples - 1)
    pipe.hgetall(keys.workers(crawl_id))
    pipe.hgetall(keys.levels(crawl_id))


def status_document(
    crawl_id: str, replies: list[Any], owner: str | None, *, by_owner: bool
) -> dict[str, Any]:
    """The published status shape from the replies to :func:`status_reads`."""
    raw, raw_errors, raw_workers, raw_levels = replies
    rec = _owned({text(k): text(v) for k, v in raw.items()}, crawl_id, owner)
    spec, counts = rec.spec, rec.counts
    samples = [json.loads(text(e)) for e in raw_errors]
    created, finished = rec.created_at, rec.finished_at
    end = finished or time.time()
    message = rec.message
    if message == "OK" and counts["errors"]:
        message = f"{counts['errors']} folders or files could not be read; see data.error_samples"
    workers = {text(k): text(v) for k, v in raw_workers.items()}
    started = rec.started_at or created
    forecast = crawl_forecast(
        {text(k): text(v) for k, v in raw_levels.items()},
        len(spec["dirs"]),
        counts,
        end - started,
        rec.status in _TERMINAL,
    )
    return {
        "crawl_id": crawl_id,
        "status": rec.status,
        "message": message,
        "data": {
            "files_crawled": counts["files"],
            "bytes_crawled": counts["bytes"],
            "groups_crawled": counts["groups"],
            "families_crawled": counts["families"],
            "dirs_crawled": counts["dirs_done"],
            "dirs_pending": max(counts["dirs_pending"], 0),
            "errors": counts["errors"],
            "error_samples": samples,
            "links_skipped": counts["links_skipped"],
            "workers": {k: int(v) for k, v in workers.items()},
            "dirs_revisited": counts["dirs_revisited"],
            "repo_type": spec["repo_type"],
            "dirs": spec["dirs"],
            "grouper": spec["grouper"],
            "created_at": created,
            "finished_at": finished,
            "elapsed_seconds": round(end - created, 3),
            **_changes(spec, counts, by_owner),
            **_lister(rec),
            "forecast": forecast,
        },
    }


@dataclass
class Commit:
    """What one listed frontier entry adds to its crawl (``crawl_commit``'s ARGV[2])."""

    crawl_id: str
    worker: str
    done: int  # directories listed
    per_entry: int  # sub-directories per new frontier entry
    subdirs: list[tuple[str, str]] = field(default_factory=list)  # (seen key, directory)
    extra: list[str] = field(default_factory=list)  # folders listed beyond the entry's
    # per depth: [depth, folders listed, sub-folders, files, bytes, files squared]
    levels: list[list[int]] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    groups: int = 0
    families: int = 0
    links_skipped: int = 0
    unreadable: int = 0  # folders that could not be listed
    errors: list[dict[str, str]] = field(default_factory=list)
    added: int = 0  # a since crawl's classes (changes.py)
    changed: int = 0
    removed: int = 0
    unchanged: int = 0


class CrawlStore:
    """Crawl state in Redis. Thread-safe: it holds only a connection pool."""

    def __init__(
        self,
        r: redis.Redis,
        *,
        dirs_per_entry: int = 64,
        error_cap: int = 1000,
        vault: Vault | None = None,
    ) -> None:
        self.r = r
        self.vault = vault
        self.dirs_per_entry = dirs_per_entry
        self.error_cap = error_cap
        self._commit = scripts.load(r, "crawl_commit")
        self._stop = scripts.load(r, "crawl_stop")

    # -- creating -------------------------------------------------------------------
    def create(
        self,
        spec: CrawlSpec,
        owner: str,
        secrets: dict[str, str] | None = None,
        admit: Callable[[], None] | None = None,
        also: Callable[[redis.client.Pipeline, str, redis.client.Pipeline], None] | None = None,
    ) -> str:
        """Record a crawl and put its root directories on the frontier, in three writes,
        one per hash slot (a Redis Cluster runs no transaction across slots): the
        owner's list of crawls, with ``admit`` (a quota check: it raises to refuse)
        run while that list is watched, so crawls started at once cannot all slip past
        it; then everything of the crawl in one transaction, with what ``also`` queues
        on it (its webhooks, its start event), before any worker can see the crawl;
        then the service-wide writes ``also`` queues on its third argument and the
        active set that wakes the crawl workers. A crash between the last two leaves a
        crawl that :func:`xtract_service.actives.repair` puts back on the active set."""
        crawl_id = str(uuid.uuid4())
        now = time.time()
        with self.r.pipeline(transaction=True) as listed:
            while True:
                try:
                    listed.watch(keys.owner_crawls(owner))  # type: ignore[no-untyped-call]
                    if admit is not None:
                        admit()
                    listed.multi()
                    listed.zadd(keys.owner_crawls(owner), {crawl_id: now})
                    listed.execute()
                    break
                except redis.WatchError:
                    continue
        # a Transfer listing is one folder per request; a Compute walker lists many
        transfer = spec.repo_type == "globus" and not spec.funcx_ep_id
        per = 1 if transfer else self.dirs_per_entry
        pipe = self.r.pipeline(transaction=True)
        after = self.r.pipeline(transaction=False)
        crawl_record.create(pipe, crawl_id, owner, spec.model_dump_json(), per, now)
        if secrets:
            pipe.hset(keys.secrets(crawl_id), mapping=Mapping(sealed(self.vault, secrets)))
        create_group(pipe, keys.dirs(crawl_id), keys.DIR_GROUP)
        pipe.sadd(keys.seen(crawl_id), *spec.dirs)
        for i in range(0, len(spec.dirs), per):
            pipe.xadd(keys.dirs(crawl_id), {"dirs": json.dumps(spec.dirs[i : i + per])})
        if also is not None:
            also(pipe, crawl_id, after)
        pipe.execute()
        after.sadd(keys.ACTIVE, crawl_id)
        after.xadd(keys.CRAWL_WAKE, {"crawl_id": crawl_id}, maxlen=100, approximate=True)
        after.execute()
        return crawl_id

    # -- committing a listing -------------------------------------------------------
    def commit(
        self,
        entry_id: str,
        commit: Commit,
        family_batches: list[tuple[bytes, int]],
        index: list[tuple[str, bytes]] | None = None,
        changed_paths: bytes = b"",
    ) -> int:
        """Write one frontier entry's results atomically (with its folders' index fields
        and a since crawl's changed paths); returns directories still pending, or -1 if
        the entry had already been committed by another worker."""
        listing = {
            **asdict(commit),
            "group": keys.DIR_GROUP,
            "now": time.time(),
            "error_cap": self.error_cap,
            "spread": FRONTIER_SPREAD,
            "words": {
                "new": CrawlStatus.INITIALIZING.value,
                "running": CrawlStatus.CRAWLING.value,
                "done": CrawlStatus.COMPLETE.value,
                "failed": CrawlStatus.FAILED.value,
            },
        }
        index = index or []
        args: list[Any] = [entry_id, json.dumps(listing), changed_paths, len(index)]
        for folder, entry in index:
            args += [folder, entry]
        for payload, n in family_batches:
            args += [payload, n]
        cid = commit.crawl_id
        k = [
            keys.crawl(cid),
            keys.dirs(cid),
            keys.families(cid),
            keys.errors(cid),
            keys.seen(cid),
            keys.workers(cid),
            keys.secrets(cid),
            keys.index(cid),
            keys.changes(cid),
            keys.levels(cid),
        ]
        pending = int(self._commit(keys=k, args=args))
        if pending == 0:  # it ended: off the service-wide set (outside the crawl's slot)
            self.r.srem(keys.ACTIVE, cid)
        return pending

    # -- reading --------------------------------------------------------------------
    def get(self, crawl_id: str, owner: str | None) -> CrawlRecord:
        """The crawl's record; raises CrawlNotFound unless it exists and ``owner`` owns it
        (``owner=None`` is for workers, which serve every owner)."""
        return _owned(hash_of(self.r, valid_key(crawl_id)), crawl_id, owner)

    def owner_of(self, crawl_id: str) -> str:
        """Whose crawl this is (one field read, for a caller who is not its owner);
        CrawlNotFound if there is no such crawl."""
        valid_key(crawl_id)
        owner = crawl_record.owner(self.r, crawl_id)
        if owner is None:
            raise CrawlNotFound(f"no crawl {crawl_id} belongs to you")
        return owner

    def status(
        self,
        crawl_id: str,
        owner: str | None,
        error_samples: int = 20,
        *,
        by_owner: bool = True,
    ) -> dict[str, Any]:
        """The published status shape: ``{crawl_id, status, message, data: {...}}``.
        A reader who is not the owner (a sharee, a caller holding only the crawl id) is
        not told which crawl a ``since`` crawl compared with: that id would read it."""
        pipe = self.r.pipeline(transaction=False)  # one round trip for all four
        status_reads(pipe, crawl_id, error_samples)
        return status_document(crawl_id, pipe.execute(), owner, by_owner=by_owner)

    def forecast(self, crawl_id: str, counts: dict[str, int]) -> dict[str, Any] | None:
        """The running crawl's forecast (see :mod:`xtract_service.forecast`), from the
        ``counts`` of :meth:`progress`."""
        spec, created, started = crawl_record.fields(
            self.r, crawl_id, ["spec", "created_at", "started_at"]
        )
        if spec is None:
            return None
        levels = self.r.hgetall(keys.levels(crawl_id))
        since = float(started or created or 0)
        roots = len(json.loads(spec)["dirs"])
        fields = {text(k): text(v) for k, v in levels.items()}
        return crawl_forecast(fields, roots, counts, time.time() - since, False)

    def progress(self, crawl_id: str) -> tuple[dict[str, int], str]:
        """The crawl's counters and status word, in one round trip."""
        fields = ("status", "files", "bytes", "dirs_done", "dirs_pending", *CHANGE_CLASSES)
        values = crawl_record.fields(self.r, crawl_id, list(fields))
        counters = {f: number(v) for f, v in zip(fields[1:], values[1:], strict=True)}
        return counters, text(values[0])

    def fall_back(self, crawl_id: str, reason: str) -> bool:
        """Record that the crawl's Compute listing fell back to Transfer; True for the
        first worker to say so."""
        return crawl_record.set_fallback(self.r, crawl_id, reason)

    def fallen_back(self, crawl_id: str) -> str | None:
        """Why the crawl's Compute listing fell back to Transfer (None: it did not)."""
        return crawl_record.fallback(self.r, crawl_id)

    def status_word(self, crawl_id: str) -> str:
        """The crawl's status word (``""`` if there is no such crawl)."""
        return crawl_record.status(self.r, crawl_id)

    def list(self, owner: str, limit: int = 100) -> list[dict[str, Any]]:
        """The owner's crawls, newest first."""
        ids = [text(i) for i in self.r.zrevrange(keys.owner_crawls(owner), 0, limit - 1)]
        out = []
        for rec in crawl_record.load_many(self.r, ids):
            if rec is None:
                continue
            out.append(
                {
                    "crawl_id": rec.crawl_id,
                    "status": rec.status,
                    "repo_type": rec.spec["repo_type"],
                    "dirs": rec.spec["dirs"],
                    "files_crawled": rec.counts["files"],
                    "families_crawled": rec.counts["families"],
                    "created_at": rec.created_at,
                }
            )
        return out

    def shared_with(self, crawl_id: str) -> builtins.list[str]:
        """Who may read the crawl besides its owner (``identity:<id>``, ``group:<id>``)."""
        return sorted(text(m) for m in self.r.smembers(keys.shares(crawl_id)))

    def spec(self, crawl_id: str) -> tuple[CrawlSpec, dict[str, str], int]:
        """What a worker needs to list this crawl: spec, secrets, dirs per entry."""
        spec_json, per = crawl_record.fields(self.r, crawl_id, ["spec", "dirs_per_entry"])
        if spec_json is None:
            raise CrawlNotFound(crawl_id)
        secrets = opened_secrets(self.vault, hash_of(self.r, keys.secrets(crawl_id)))
        return CrawlSpec.model_validate_json(spec_json), secrets, number(per, 1)

    # -- a published client's token, handed from its crawl to its extraction ---------------
    def keep_for_extraction(self, crawl_id: str, tokens: dict[str, str], seconds: int) -> None:
        """Keep ``tokens`` sealed for the crawl's extraction for at most ``seconds``:
        the published SDKs send no Transfer token with ``/extract``, and a Globus crawl
        with no Compute endpoint needs one to stage its files."""
        if tokens and seconds > 0:
            pipe = self.r.pipeline(transaction=True)
            pipe.hset(keys.handover(crawl_id), mapping=Mapping(sealed(self.vault, tokens)))
            pipe.expire(keys.handover(crawl_id), seconds)
            pipe.execute()

    def take_for_extraction(self, crawl_id: str, owner: str) -> dict[str, str]:
        """The tokens kept by :meth:`keep_for_extraction` (once: they are deleted)."""
        self.get(crawl_id, owner)
        pipe = self.r.pipeline(transaction=True)
        pipe.hgetall(keys.handover(crawl_id))
        pipe.delete(keys.handover(crawl_id))
        stored, _ = pipe.execute()
        return opened_secrets(self.vault, {text(k): text(v) for k, v in stored.items()})

    # -- stopping -------------------------------------------------------------------
    def cancel(self, crawl_id: str, owner: str) -> dict[str, Any]:
        """Stop a running crawl. Files already found stay flushable; a finished crawl
        is left as it is."""
        self.get(crawl_id, owner)
        if self._end(crawl_id, CrawlStatus.CANCELLED, "cancelled by its owner"):
            publish(self.r, crawl_id, EventType.CRAWL_CANCELLED)
        return self.status(crawl_id, owner)

    def _end(self, crawl_id: str, status: CrawlStatus, message: str) -> bool:
        k = [keys.crawl(crawl_id), keys.dirs(crawl_id), keys.secrets(crawl_id)]
        stopped = bool(self._stop(keys=k, args=[status.value, message, time.time(), *_TERMINAL]))
        self.r.srem(keys.ACTIVE, crawl_id)  # ended either way (outside the crawl's slot)
        return stopped
