"""Reading Redis streams: the one consumer loop every worker role is built on, and the
one cursor type for reading a stream from a position without a consumer group.

:class:`Consumer` is a named member of a consumer group. Its :meth:`~Consumer.run`
calls the subclass's :meth:`~Consumer.step` until stopped, stops when the process that
started it is gone, and waits out a lost connection. It reads new entries
(``XREADGROUP``), takes over entries a silent consumer has held longer than the claim
idle time (``XAUTOCLAIM``), refreshes entries it is still working on (a heartbeat), and
acknowledges them. Crawl workers, orchestrators, offload workers and webhook notifiers
are its four subclasses.

:class:`Cursor` is a position ``entry id:items taken from it``; :func:`walk` yields the
items of a stream's entries after a cursor, each with the cursor just after it. Flush,
metadata pages and offloads all read this way.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import redis

from xtract_service.redis_client import (
    Entry,
    Fields,
    Mapping,
    by_slot,
    claimed,
    entries_of,
    is_cluster,
    xrange,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


@dataclass(frozen=True)
class Cursor:
    """A position in a stream: after ``taken`` items of entry ``entry``.

    >>> str(Cursor("1700000000000-0", 3))
    '1700000000000-0:3'
    >>> Cursor.parse("1700000000000-0:3")
    Cursor(entry='1700000000000-0', taken=3)
    """

    entry: str = "0-0"
    taken: int = 0

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """Read a cursor (``None`` or ``""`` is the start); ValueError if malformed.
        A space is accepted in place of the colon (positions stored by older releases)."""
        if not text:
            return cls()
        entry, sep, taken = text.replace(" ", ":").partition(":")
        if not sep or not _ENTRY_ID.match(entry) or not taken.isdigit() or len(taken) > 12:
            raise ValueError(f"bad cursor {text!r}")
        return cls(entry, int(taken))

    def __str__(self) -> str:
        return f"{self.entry}:{self.taken}"


def walk(
    r: Any,
    stream: str,
    cursor: Cursor,
    unpack: Callable[[Fields], Sequence[T]],
    scan: int = 16,
) -> Iterator[tuple[Cursor, T]]:
    """The items ``unpack`` finds in each entry after ``cursor``, in order, each with the
    cursor just after it. ``r`` may be a client or a pipeline under ``WATCH``."""
    low = cursor.entry
    while True:
        batch = xrange(r, stream, low, count=scan)
        if not batch:
            return
        for entry in batch:
            items = unpack(entry.fields)
            first = cursor.taken if entry.id == cursor.entry else 0
            for i in range(first, len(items)):
                yield Cursor(entry.id, i + 1), items[i]
        low = "(" + batch[-1].id


def fair_order(items: list[str], owner_of: Callable[[str], str], turn: int) -> list[str]:
    """``items`` interleaved by owner, one of each owner's in turn, the first owner
    rotating with ``turn``: an owner with a hundred crawls gets the same share of the
    workers as an owner with one.

    >>> fair_order(["a1", "a2", "a3", "b1"], lambda i: i[0], 0)
    ['a1', 'b1', 'a2', 'a3']
    """
    by_owner: dict[str, list[str]] = {}
    for item in items:
        by_owner.setdefault(owner_of(item), []).append(item)
    owners = sorted(by_owner)
    if not owners:
        return []
    k = turn % len(owners)
    owners = owners[k:] + owners[:k]
    out: list[str] = []
    while len(out) < len(items):
        for owner in owners:
            if by_owner[owner]:
                out.append(by_owner[owner].pop(0))
    return out


def consumer_name(role: str) -> str:
    """How a worker of ``role`` is named in consumer groups and status: role, host, pid
    (unique across hosts sharing one Redis)."""
    return f"{role}-{socket.gethostname()}-{os.getpid()}"


class Loop:
    """A worker role's loop; subclasses implement :meth:`step`.

    ``retry_on`` names the errors after which the loop waits a second and carries on
    (Redis restarting, say).
    """

    retry_on: ClassVar[tuple[type[Exception], ...]] = (redis.ConnectionError,)

    def __init__(self, r: redis.Redis, name: str) -> None:
        self.r = r
        self.name = name
        self.stop = threading.Event()

    # -- the loop ---------------------------------------------------------------------
    def step(self) -> bool:
        """One round of work; returns whether anything happened (if not, :meth:`pause`)."""
        raise NotImplementedError

    def open(self) -> None:
        """Called once before the first step."""

    def pause(self) -> None:
        """Called after a round in which nothing happened."""
        self.stop.wait(0.1)

    def close(self) -> None:
        """Called once when the loop ends, however it ends."""

    def run(self, parent_pid: int | None = None) -> None:
        """Step until :attr:`stop` is set or the parent process ``parent_pid`` is gone."""
        try:
            self.open()
            while not self.stop.is_set():
                if parent_pid is not None and os.getppid() != parent_pid:
                    log.warning("service %s went away; %s stopping", parent_pid, self.name)
                    break
                try:
                    busy = self.step()
                except self.retry_on as exc:
                    log.warning("%s: redis unavailable (%s); retrying", self.name, exc)
                    self.stop.wait(1)
                    continue
                if not busy:
                    self.pause()
        finally:
            self.close()


class Consumer(Loop):
    """One member of a consumer group; ``group`` names the group. Entries it holds are
    kept fresh by a heartbeat thread while it runs."""

    group: ClassVar[str]

    def __init__(self, r: redis.Redis, name: str, claim_idle: float) -> None:
        super().__init__(r, name)
        self.claim_idle = claim_idle
        self._last_claim: dict[str, float] = {}
        self._held: dict[str, set[str]] = {}  # stream -> entries this consumer works on
        self._held_lock = threading.Lock()
        self._beat: threading.Thread | None = None

    def run(self, parent_pid: int | None = None) -> None:
        self._beat = threading.Thread(target=self._heartbeats, name="xtract-heartbeat", daemon=True)
        self._beat.start()
        super().run(parent_pid)

    # -- liveness -------------------------------------------------------------------------
    def hold(self, stream: str, entry_id: str) -> None:
        """This consumer works on ``entry_id`` until :meth:`release`: a heartbeat keeps
        it from being claimed by another, however long the work takes."""
        with self._held_lock:
            self._held.setdefault(stream, set()).add(entry_id)

    def release(self, stream: str, entry_id: str) -> None:
        with self._held_lock:
            self._held.get(stream, set()).discard(entry_id)

    def _heartbeats(self) -> None:
        """Refresh every held entry a few times per claim idle time, so a live consumer
        keeps its work and a dead one's is claimed within that time."""
        period = max(self.claim_idle / 3, 0.2)
        while not self.stop.wait(period):
            with self._held_lock:
                held = {s: sorted(ids) for s, ids in self._held.items() if ids}
            for stream, ids in held.items():
                try:
                    self.heartbeat(stream, ids)
                except redis.RedisError as exc:
                    log.warning("%s: heartbeat failed (%s)", self.name, exc)

    # -- the group ----------------------------------------------------------------------
    def ensure_group(self, stream: str) -> None:
        """Create the group on ``stream`` (from its start) unless it exists."""
        create_group(self.r, stream, self.group)

    def read(self, streams: Iterable[str], count: int, block_ms: int | None = None) -> list[Entry]:
        """New entries of ``streams`` for this consumer: one ``XREADGROUP``, or on a
        Redis Cluster one per hash slot (a read spans one slot), each without blocking
        and, if none had anything, a blocking one on the first slot's streams."""
        names = list(dict.fromkeys(streams))
        if not names:
            return []
        slots = by_slot(names) if is_cluster(self.r) else [names]
        if len(slots) == 1:
            return self._read_group(slots[0], count, block_ms)
        found: list[Entry] = []
        for group in slots:
            found += self._read_group(group, count, None)
            if len(found) >= count:
                break
        return found or self._read_group(slots[0], count, block_ms)

    def _read_group(self, streams: list[str], count: int, block_ms: int | None) -> list[Entry]:
        wanted: Mapping = dict.fromkeys(streams, ">")
        reply = self.r.xreadgroup(self.group, self.name, wanted, count=count, block=block_ms)
        return entries_of(reply)

    def claim(self, stream: str, count: int, held: Iterable[str] = ()) -> list[Entry]:
        """Entries of ``stream`` another consumer has left idle for the claim idle time,
        now this consumer's (at most every ``min(idle / 3, 5)`` s per stream; entries in
        ``held``, which this consumer is already working on, are left out)."""
        now = time.monotonic()
        if now - self._last_claim.get(stream, 0.0) < min(self.claim_idle / 3, 5.0):
            return []
        self._last_claim[stream] = now
        reply = self.r.xautoclaim(
            stream, self.group, self.name, int(self.claim_idle * 1000), "0-0", count=count
        )
        skip = set(held)
        return [e for e in claimed(stream, reply) if e.id not in skip]

    def heartbeat(self, stream: str, entry_ids: Sequence[str]) -> None:
        """Show that this consumer is still working on these entries (resets their idle
        time, so nobody claims them)."""
        self.r.xclaim(stream, self.group, self.name, 0, list(entry_ids), justid=True)

    def ack(self, stream: str, *entry_ids: str) -> None:
        self.r.xack(stream, self.group, *entry_ids)

    def forget_stream(self, stream: str) -> None:
        self._last_claim.pop(stream, None)


def create_group(r: Any, stream: str, group: str) -> None:
    """Create consumer group ``group`` on ``stream`` from its start, unless it exists."""
    try:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
