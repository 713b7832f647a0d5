"""Events and notifications.

Every stage publishes typed events into the crawl's capped event stream (served as
Server-Sent Events and read by SDK monitors). STARTED, COMPLETED and FAILED events also
go to webhooks: :func:`publish` adds them to an outbox stream when the crawl has any.
A :class:`Notifier` thread in the offload worker delivers each
event to each URL as a JSON POST ``{event, kind, crawl_id, status, at, data}``, with a
timeout and retries with back-off. A webhook that keeps failing is recorded and given
up on; it never fails the run it reports on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import redis
import requests

from xtract_service.crawl import keys

log = logging.getLogger(__name__)
EVENTS = ("STARTED", "COMPLETED", "FAILED")


EVENT_TYPES = (
    "crawl.started",
    "crawl.progress",
    "family.found",
    "crawl.completed",
    "crawl.failed",
    "crawl.cancelled",
    "xtract.started",
    "family.extracted",
    "family.failed",
    "xtract.completed",
    "xtract.failed",
    "offload.started",
    "offload.completed",
    "offload.failed",
)
EVENTS_KEPT = 100_000  # per crawl; older events fall off the stream


def publish(r: redis.Redis, crawl_id: str, event: str, **data: Any) -> None:
    """Add a typed event (one of :data:`EVENT_TYPES`) to the crawl's event stream, and
    queue the STARTED/COMPLETED/FAILED ones for the crawl's webhooks."""
    now = time.time()
    r.xadd(
        keys.events(crawl_id),
        {"type": event, "at": now, "data": json.dumps(data, default=str)},
        maxlen=EVENTS_KEPT,
        approximate=True,
    )
    kind, _, status = event.partition(".")
    if status.upper() not in EVENTS or not r.exists(keys.webhooks(crawl_id)):
        return
    body = {
        "event": event,
        "kind": kind,
        "status": status.upper(),
        "crawl_id": crawl_id,
        "at": now,
        "data": data,
    }
    r.xadd(
        keys.WEBHOOK_OUTBOX,
        {"crawl_id": crawl_id, "body": json.dumps(body, default=str)},
        maxlen=100_000,
        approximate=True,
    )


def emit(r: redis.Redis, crawl_id: str, kind: str, event: str, **data: Any) -> None:
    """``publish`` of ``kind.event`` (``event`` is STARTED, COMPLETED or FAILED)."""
    publish(r, crawl_id, f"{kind}.{event.lower()}", **data)


class Notifier:
    """Delivers the outbox (at least once) on a background thread."""

    def __init__(
        self,
        r: redis.Redis,
        name: str,
        *,
        timeout: float = 5.0,
        tries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.r, self.name = r, name
        self.timeout, self.tries, self.backoff = timeout, tries, backoff
        self.stop = threading.Event()
        self.session = requests.Session()
        self.thread = threading.Thread(target=self._run, name="xtract-notifier", daemon=True)

    def start(self) -> Notifier:
        try:
            self.r.xgroup_create(keys.WEBHOOK_OUTBOX, keys.WEBHOOK_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                reply = self.r.xreadgroup(
                    keys.WEBHOOK_GROUP, self.name, {keys.WEBHOOK_OUTBOX: ">"}, count=16, block=500
                )
                claimed = self.r.xautoclaim(
                    keys.WEBHOOK_OUTBOX, keys.WEBHOOK_GROUP, self.name, 60_000, "0-0", count=16
                )[1]
            except redis.RedisError as exc:
                log.warning("notifier: redis unavailable (%s)", exc)
                time.sleep(1)
                continue
            entries = [e for _, es in reply or [] for e in es] + [e for e in claimed if e[1]]
            for eid, fields in entries:
                self.deliver(fields[b"crawl_id"].decode(), fields[b"body"].decode())
                self.r.xack(keys.WEBHOOK_OUTBOX, keys.WEBHOOK_GROUP, eid)

    def deliver(self, crawl_id: str, body: str) -> None:
        for url in sorted(u.decode() for u in self.r.smembers(keys.webhooks(crawl_id))):
            error = "no attempt"
            for attempt in range(self.tries):
                try:
                    resp = self.session.post(
                        url,
                        data=body,
                        timeout=self.timeout,
                        headers={"Content-Type": "application/json"},
                    )
                    if resp.status_code < 300:
                        break
                    error = f"HTTP {resp.status_code}"
                except requests.RequestException as exc:
                    error = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < self.tries:
                    time.sleep(self.backoff * 2**attempt)
            else:
                failure = {
                    "url": url,
                    "error": error,
                    "event": json.loads(body)["event"],
                    "at": time.time(),
                }
                self.r.lpush(keys.webhook_failures(crawl_id), json.dumps(failure))
                self.r.ltrim(keys.webhook_failures(crawl_id), 0, 99)
                log.warning("webhook %s gave up: %s", url, error)
