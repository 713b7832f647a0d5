"""Waiting: following crawls and extractions until they end, driven by their live
events, and following offloads, with a progress line."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xtract_sdk._http import HttpCore, path_id
from xtract_sdk.errors import TimeoutError
from xtract_sdk.monitor import Callback, Event, Monitor, MonitorOptions
from xtract_sdk.progress import Progress
from xtract_sdk.status import EventType, OffloadStatus

if TYPE_CHECKING:
    from xtract_sdk.client import XtractClient

Status = dict[str, Any]
# what a wait listens to: a run's lifecycle and its progress (once a second at most), not
# each family (those events carry whole documents: the service would encode and send
# every one to a caller that only waits)
FOLLOWED = [e.value for e in EventType if e is not EventType.ANY and not e.startswith("family.")]


def follow(
    client: XtractClient,
    ids: list[str],
    fetch: Callable[[str], Status],
    finished: Callable[[Status], bool],
    line: Callable[[list[Status], float, list[Status]], str],
    timeout: float | None,
    progress: bool,
    share: Callable[[list[Status]], float | None] = lambda statuses: None,
) -> dict[str, Status]:
    """Wait for every crawl in ``ids`` to be ``finished``, driven by its live events:
    each burst of events refreshes the statuses (at most four times a second), and a
    quiet spell of 5 s refreshes them anyway, in case an event was missed."""
    events: queue.Queue[Event] = queue.Queue()
    options = MonitorOptions(types=FOLLOWED)
    monitors = [
        Monitor(client, cid, [Callback(EventType.ANY, events.put)], options).start() for cid in ids
    ]
    bar = Progress(enabled=progress)
    last_fetch = time.monotonic()
    final = EventType.final()
    try:
        statuses = {cid: fetch(cid) for cid in ids}
        start = list(statuses.values())  # rates count only what happens from now on
        while True:
            now = list(statuses.values())
            bar.update(line(now, bar.elapsed, start), share(now))
            if all(finished(s) for s in statuses.values()):
                return statuses
            if timeout is not None and bar.elapsed > timeout:
                raise TimeoutError(f"still running after {timeout}s: {ids}")
            got = _burst(events, last_fetch + 0.25, final)
            touched = {e.crawl_id for e in got} if got else set(ids)
            last_fetch = time.monotonic()
            for cid in touched & set(ids):
                statuses[cid] = fetch(cid)
    finally:
        for m in monitors:
            m.stop(timeout=0)
        bar.close()


def crawl_share(statuses: list[Status]) -> float | None:
    """How far the crawls are: folders read of folders known."""
    done = sum(s.get("data", {}).get("dirs_crawled", 0) for s in statuses)
    pending = sum(s.get("data", {}).get("dirs_pending", 0) for s in statuses)
    return done / (done + pending) if done + pending else None


def xtract_share(statuses: list[Status]) -> float | None:
    """How far the extractions are: families recorded of families found."""
    fx = [s.get("xtract_counters", {}).get("fx", {}) for s in statuses]
    done = sum(f.get("success", 0) + f.get("failed", 0) for f in fx)
    pending = sum(f.get("pending", 0) for f in fx)
    return done / (done + pending) if done + pending else None


def _burst(events: queue.Queue[Event], until: float, final: frozenset[EventType]) -> list[Event]:
    """The next burst of events: the first (waiting up to 5 s; none means a quiet
    spell), then whatever arrives until ``until``, so progress refreshes at most four
    times a second, and at once when an event says a run ended."""
    got: list[Event] = []
    try:
        got.append(events.get(timeout=5.0))
        while got[-1].type not in final and (left := until - time.monotonic()) > 0:
            got.append(events.get(timeout=left))
    except queue.Empty:
        pass
    while not events.empty():
        got.append(events.get_nowait())
    return got


def wait_offloads(
    http: HttpCore, started: list[tuple[str, str]], timeout: float | None, progress: bool
) -> list[Status]:
    """Poll each ``(crawl id, offload id)`` until it is COMPLETED or FAILED."""
    bar = Progress(enabled=progress)
    try:
        while True:
            statuses: list[Status] = [
                http.request("GET", f"/v1/crawls/{path_id(c)}/offload/{path_id(o)}")
                for c, o in started
            ]
            done = [s for s in statuses if s["status"] in OffloadStatus.terminal()]
            items = sum(s["items"] for s in statuses)
            shares = [p for s in statuses for p in s.get("partitions") or []]
            split = (
                f" ({sum(p['done'] for p in shares)}/{len(shares)} partitions written)"
                if len(shares) > len(statuses)
                else ""
            )
            bar.update(f"offload: {len(done)}/{len(statuses)} done, {items:,} files written{split}")
            if len(done) == len(statuses):
                return statuses
            if timeout is not None and bar.elapsed > timeout:
                raise TimeoutError(f"offloads still running after {timeout}s")
            time.sleep(0.5)
    finally:
        bar.close()
