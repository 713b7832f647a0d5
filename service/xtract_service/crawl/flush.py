"""Flushing: handing the files a crawl found to the caller, as leased deliveries.

Flushing keeps its own :class:`~xtract_service.streams.Cursor` over the families
stream, advanced under WATCH so two concurrent flushes never hand out the same file. It
reads the stream without a consumer group, so it takes nothing away from an extraction,
which reads the same stream through its own group.

**Leases.** What one call hands out is a *lease*: the ranges of the stream it covered,
held for the consumer that asked (``default`` unless the caller names one) until

- that consumer's next call, which acknowledges it (the published clients' loop:
  asking again means the last answer arrived);
- an explicit acknowledgement (``ack``: the lease id each answer carries);
- the answer never reaching the caller (the API saw it go before answering:
  :func:`release`), or the lease's time running out (``XTRACT_FLUSH_LEASE_SECONDS``):
  then its ranges are handed out again, before anything new, to the next call of any
  consumer.

So an abandoned call loses nothing, and every file reaches a caller at least once: a
consumer that takes longer than the lease between calls may see a page twice. A crawl
says ``queue_empty`` only once nothing is left new, returned, or leased to another
consumer.

Two flush spaces never meet: the owner's authenticated calls, and calls that hold only
the crawl id (``capability``), which never consume what the owner is owed.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis

from xtract_sdk.status import CrawlStatus
from xtract_service import crawl_record, keys
from xtract_service.crawl.families import rendered_files
from xtract_service.crawl.store import CrawlStore
from xtract_service.errors import BadRequest
from xtract_service.redis_client import Entry, maybe_text, xrange
from xtract_service.streams import Cursor

_SCAN = 64  # at most this many stream entries read per round trip
_FILES_PER_ENTRY = 1000  # about what a crawl's entry holds (records_per_entry)
_CONSUMER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_LEASE = re.compile(r"^[0-9a-f]{16}$")
MAX_CONSUMERS = 16  # consumers holding a lease at once, per crawl and flush space
DEFAULT_CONSUMER = "default"


@dataclass(frozen=True)
class Space:
    """One flush space of a crawl: its cursor, its leases (held and returned), and its
    acknowledged leases with their times (apart: a loop of small pages acknowledges
    hundreds a minute, and each call reads the leases whole)."""

    cursor: str
    leases: str
    acked: str
    acked_until: str

    @classmethod
    def of(cls, crawl_id: str, capability: bool = False) -> Space:
        if capability:
            return cls(
                keys.capability_flush_cursor(crawl_id),
                keys.capability_flush_leases(crawl_id),
                keys.capability_flush_acked(crawl_id),
                keys.capability_flush_acked_until(crawl_id),
            )
        return cls(
            keys.flush_cursor(crawl_id),
            keys.flush_leases(crawl_id),
            keys.flush_acked(crawl_id),
            keys.flush_acked_until(crawl_id),
        )

    def watched(self) -> tuple[str, str, str, str]:
        return self.cursor, self.leases, self.acked, self.acked_until


Range = tuple[Cursor, Cursor]  # the files after the first cursor, up to the second


def _entry_after(a: str, b: str) -> bool:
    """Whether stream id ``a`` comes after ``b``."""
    ams, _, aseq = a.partition("-")
    bms, _, bseq = b.partition("-")
    return (int(ams), int(aseq)) > (int(bms), int(bseq))


def _take(
    r: Any, stream: str, start: Cursor, want: int, end: Cursor | None = None
) -> tuple[list[bytes], int, Cursor]:
    """Up to ``want`` files after ``start`` (and not after ``end``), rendered as JSON
    (:func:`~xtract_service.crawl.families.rendered_files`, an entry's share at a time),
    how many, and the cursor just after the last."""
    parts: list[bytes] = []
    got, cursor = 0, start
    if want <= 0:
        return parts, got, cursor
    for entry in _entries(r, stream, start.entry, 1 + want // _FILES_PER_ENTRY):
        if end is not None and _entry_after(entry.id, end.entry):
            break
        if "families" in entry.fields:  # retry entries repeat families, not new files
            first = start.taken if entry.id == start.entry else 0
            stop = int(entry.fields["n"])
            if end is not None and entry.id == end.entry:
                stop = min(stop, end.taken)
            stop = min(stop, first + want - got)
            if stop > first:
                part, k = rendered_files(entry.fields["families"], first, stop)
                parts.append(part)
                got += k
                cursor = Cursor(entry.id, first + k)
        if got >= want:
            break
    return parts, got, cursor


def _entries(r: Any, stream: str, low: str, count: int) -> Iterator[Entry]:
    """The stream's entries from ``low`` on, read ``count`` at first, then twice as many
    each round trip up to ``_SCAN``: a caller that needs a few entries reads a few."""
    count = max(1, min(count, _SCAN))
    while batch := xrange(r, stream, low, count=count):
        yield from batch
        low = "(" + batch[-1].id
        count = min(count * 2, _SCAN)


def _ranges(plain: list[list[str]]) -> list[Range]:
    return [(Cursor.parse(a), Cursor.parse(b)) for a, b in plain]


def _plain(spans: list[Range]) -> list[list[str]]:
    return [[str(a), str(b)] for a, b in spans]


def _dump(spans: list[Range]) -> str:
    return json.dumps(_plain(spans))


@dataclass
class _Leases:
    """The leases hash of one space, read under WATCH, and what a call changes in it.

    Fields: ``consumer:NAME`` -> that consumer's live lease (``{"id", "ranges",
    "until"}``); ``returned:ID`` -> ranges to hand out again. A lease its consumer's next
    call acknowledged moves to the space's ``acked`` hash, kept until its time is up so
    a late :func:`release` (the API seeing that answer's caller gone after the next call
    came in) still gives it back; the ``acked_until`` set finds the lapsed ones, so a
    call reads none of the others (at most 16 consumers' leases are read whole)."""

    fields: dict[str, str]

    @classmethod
    def read(cls, r: Any, key: str) -> _Leases:
        return cls({maybe_text(k) or "": maybe_text(v) or "" for k, v in r.hgetall(key).items()})

    def of_kind(self, kind: str) -> dict[str, Any]:
        """The fields ``kind:...`` by the rest of their name, decoded."""
        prefix = f"{kind}:"
        return {
            f.removeprefix(prefix): json.loads(v)
            for f, v in self.fields.items()
            if f.startswith(prefix)
        }

    def settle(self, consumer: str, ack: str | None, at: float) -> _Settled:
        """End the caller's own lease and the one ``ack`` names (if held), take back
        lapsed ones."""
        out = _Settled()
        for name, held in self.of_kind("consumer").items():
            field = f"consumer:{name}"
            if held["until"] <= at:
                out.owed[f"returned:{held['id']}"] = _ranges(held["ranges"])
                out.drop.append(field)
            elif held["id"] == ack:
                out.drop.append(field)
            elif name == consumer:
                out.drop.append(field)
                out.acked[held["id"]] = held
            else:
                out.live.add(name)
        for lease, ranges in self.of_kind("returned").items():
            out.owed[f"returned:{lease}"] = _ranges(ranges)
            out.drop.append(f"returned:{lease}")
        out.drop += [f for f in self.fields if f.startswith("acked:")]  # an older layout's
        return out


@dataclass
class _Settled:
    drop: list[str] = field(default_factory=list)  # fields deleted
    owed: dict[str, list[Range]] = field(default_factory=dict)  # ranges to hand out again
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # lease id -> the lease
    live: set[str] = field(default_factory=set)  # other consumers holding a lease


def flush_files(
    store: CrawlStore,
    crawl_id: str,
    owner: str,
    n: Any,
    max_flush: int,
    *,
    capability: bool = False,
    consumer: Any = None,
    ack: Any = None,
    lease_seconds: float = 120.0,
    rendered: bool = False,
) -> dict[str, Any]:
    """:func:`flush` for a caller: the crawl must be theirs, ``n`` a whole number from 1
    to ``max_flush``, ``consumer`` (optional) a short name and ``ack`` (optional) a lease
    id. A call that holds only the crawl id (``capability``: a published client sending
    no credential) flushes in a space of its own: it never consumes what the owner's
    authenticated flushes are owed."""
    store.get(crawl_id, owner)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= max_flush:
        raise BadRequest(
            f"first_n_files must be an integer from 1 to {max_flush}, not {n!r}",
            "bad_first_n_files",
        )
    consumer = _checked_consumer(consumer)
    if ack is not None and not (isinstance(ack, str) and _LEASE.match(ack)):
        raise BadRequest("ack must be a lease id from an earlier flush answer", "bad_ack")
    return flush(
        store.r,
        crawl_id,
        n,
        Space.of(crawl_id, capability),
        consumer=consumer,
        ack=ack,
        lease_seconds=lease_seconds,
        rendered=rendered,
    )


def _checked_consumer(consumer: Any) -> str:
    if consumer is None:
        return DEFAULT_CONSUMER
    if not isinstance(consumer, str) or not _CONSUMER.match(consumer):
        raise BadRequest(
            "consumer must be 1 to 64 letters, digits, '.', '_' or '-'", "bad_consumer"
        )
    return consumer


def flush(
    r: redis.Redis,
    crawl_id: str,
    first_n_files: int,
    space: Space | None = None,
    *,
    consumer: str = DEFAULT_CONSUMER,
    ack: str | None = None,
    lease_seconds: float = 120.0,
    now: float | None = None,
    rendered: bool = False,
) -> dict[str, Any]:
    """Acknowledge ``consumer``'s last lease (and ``ack``), then lease it up to
    ``first_n_files`` files: those owed again first, then files not handed out before,
    in discovery order. ``rendered``: ``file_ls`` stays the JSON it was rendered as (an
    ``orjson.Fragment``, which the API splices into its answer as it is), not records."""
    space = space or Space.of(crawl_id)
    while True:
        with r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(*space.watched())  # type: ignore[no-untyped-call]
                at = time.time() if now is None else now
                held_for = (at, lease_seconds)
                answer = _lease(pipe, crawl_id, space, first_n_files, consumer, ack, held_for)
                pipe.execute()
            except redis.WatchError:
                continue
        raw = answer["file_ls"]
        answer["file_ls"] = orjson.Fragment(raw) if rendered else orjson.loads(raw)
        return answer


def _lease(
    pipe: Any,
    crawl_id: str,
    space: Space,
    n: int,
    consumer: str,
    ack: str | None,
    held_for: tuple[float, float],
) -> dict[str, Any]:
    """One flush inside the WATCH at time ``at``, leasing for ``lease_seconds``
    (``held_for``): reads, then queues the writes (``pipe.multi``)."""
    at, lease_seconds = held_for
    stream = keys.families(crawl_id)
    settled = _Leases.read(pipe, space.leases).settle(consumer, ack, at)
    # acknowledged leases whose time is up, and the one ``ack`` names: forgotten
    done = [maybe_text(i) or "" for i in pipe.zrangebyscore(space.acked_until, "-inf", at)]
    if ack is not None:
        done.append(ack)
    if consumer not in settled.live and len(settled.live) >= MAX_CONSUMERS:
        raise BadRequest(
            f"at most {MAX_CONSUMERS} consumers may hold a lease at once", "too_many_consumers"
        )
    # read before the stream: a crawl seen finished has all its families written
    status = crawl_record.status(pipe, crawl_id)
    parts, taken, spans, rest = _take_returned(pipe, stream, settled.owed, n)
    start = Cursor.parse(maybe_text(pipe.get(space.cursor)))
    want = n - taken
    fresh, got, cursor = _take(pipe, stream, start, want)
    if got:
        spans.append((start, cursor))
    parts += fresh
    taken += got
    lease = secrets.token_hex(8) if taken else None
    others = bool(settled.live - {consumer})
    # the stream is read to its end only where the answer depends on it: a crawl still
    # running is not empty anyway, and a page the stream could not fill ended it
    ended = status in CrawlStatus.terminal() and not rest and not others
    empty = ended and (got < want or not _more_after(pipe, stream, cursor))
    pipe.multi()
    pipe.set(space.cursor, str(cursor))
    if settled.drop:
        pipe.hdel(space.leases, *settled.drop)
    if done:
        pipe.hdel(space.acked, *done)
        pipe.zrem(space.acked_until, *done)
    if settled.acked:
        pipe.hset(space.acked, mapping={i: json.dumps(h) for i, h in settled.acked.items()})
        pipe.zadd(space.acked_until, {i: h["until"] for i, h in settled.acked.items()})
    writes = {f: _dump(left) for f, left in rest.items()}
    if lease:
        held = {"id": lease, "ranges": _plain(spans), "until": at + lease_seconds}
        writes[f"consumer:{consumer}"] = json.dumps(held)
    if writes:
        pipe.hset(space.leases, mapping=writes)
    return {
        "crawl_id": crawl_id,
        "file_ls": b"[" + b",".join(parts) + b"]",
        "num_files": taken,
        "queue_empty": empty,
        "lease": lease,
    }


def _take_returned(
    r: Any, stream: str, returned: dict[str, list[Range]], n: int
) -> tuple[list[bytes], int, list[Range], dict[str, list[Range]]]:
    """Up to ``n`` files from the returned ranges (rendered, as :func:`_take` gives
    them), how many, the ranges they came from, and what is left of each returned
    field (written back)."""
    parts: list[bytes] = []
    taken = 0
    spans: list[Range] = []
    rest: dict[str, list[Range]] = {}
    for name, ranges in sorted(returned.items()):
        left: list[Range] = []
        for start, end in ranges:
            want = n - taken
            if want == 0:
                left.append((start, end))
                continue
            got_parts, got, last = _take(r, stream, start, want, end)
            if got:
                spans.append((start, last))
                parts += got_parts
                taken += got
                if last != end and got == want:
                    left.append((last, end))
        if left:
            rest[name] = left
    return parts, taken, spans, rest


def release(r: redis.Redis, crawl_id: str, lease: str, *, capability: bool = False) -> bool:
    """Hand a lease's files out again at once (its answer never reached the caller),
    whether it is still held or was acknowledged by its consumer's next call since.
    False if it is gone (explicitly acknowledged, or its time is up)."""
    space = Space.of(crawl_id, capability)
    while True:
        with r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(*space.watched())  # type: ignore[no-untyped-call]
                leases = _Leases.read(pipe, space.leases)
                found = [
                    (f"consumer:{name}", held)
                    for name, held in leases.of_kind("consumer").items()
                    if held["id"] == lease
                ]
                acked = maybe_text(pipe.hget(space.acked, lease))
                if not found and acked is None:
                    pipe.unwatch()
                    return False
                pipe.multi()
                if found:
                    field, held = found[0]
                    pipe.hdel(space.leases, field)
                else:
                    held = json.loads(acked or "{}")
                    pipe.hdel(space.acked, lease)
                    pipe.zrem(space.acked_until, lease)
                pipe.hset(space.leases, f"returned:{lease}", json.dumps(held["ranges"]))
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def _more_after(r: Any, stream: str, cursor: Cursor) -> bool:
    """Whether any file is left after ``cursor``, from the entries' file counts (``n``)
    alone: the families are not decoded to find out."""
    for entry in _entries(r, stream, cursor.entry, 2):
        files = int(entry.fields.get("n", 0)) if "families" in entry.fields else 0
        if files > (cursor.taken if entry.id == cursor.entry else 0):
            return True
    return False
