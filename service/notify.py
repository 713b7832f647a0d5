"""Notifications: webhooks told when a crawl, an extraction or an offload starts,
completes or fails.

Any process emits an event with :func:`emit` (one XADD to an outbox stream, only if the
crawl has webhooks). A :class:`Notifier` thread in the offload worker delivers each
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


def emit(r: redis.Redis, crawl_id: str, kind: str, event: str, **data: Any) -> None:
    """Queue ``kind.event`` (``crawl``/``xtract``/``offload``) for the crawl's webhooks."""
    if not r.exists(keys.webhooks(crawl_id)):
        return
    body = {
        "event": f"{kind}.{event.lower()}",
        "kind": kind,
        "status": event,
        "crawl_id": crawl_id,
        "at": time.time(),
        "data": data,
    }
    r.xadd(
        keys.WEBHOOK_OUTBOX,
        {"crawl_id": crawl_id, "body": json.dumps(body, default=str)},
        maxlen=100_000,
        approximate=True,
    )


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
