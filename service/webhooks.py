"""Webhooks: the notifier that POSTs lifecycle events from the outbox stream to each of
a crawl's URLs as JSON ``{event, kind, crawl_id, status, at, data}``, with a timeout and
retries with back-off. A webhook that keeps failing is recorded and given up on; it
never fails the run it reports on. It runs on a thread of the offload worker.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import redis
import requests

from xtract_service import keys
from xtract_service.errors import BadRequest
from xtract_service.redis_client import members, text
from xtract_service.streams import Consumer

log = logging.getLogger(__name__)
FAILURES_KEPT = 100
FAILURES_SHOWN = 20


def check_urls(urls: list[str]) -> None:
    """BadRequest unless every URL is http(s)."""
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise BadRequest(f"webhook {url!r} must be an http(s) URL", "bad_url")


def add_webhooks(r: redis.Redis, crawl_id: str, urls: list[str]) -> None:
    """Tell these URLs about the crawl's lifecycle events from now on."""
    check_urls(urls)
    r.sadd(keys.webhooks(crawl_id), *urls)


def webhook_report(r: redis.Redis, crawl_id: str) -> dict[str, object]:
    """The crawl's webhooks and their newest failed deliveries."""
    raw = r.lrange(keys.webhook_failures(crawl_id), 0, FAILURES_SHOWN - 1)
    return {
        "crawl_id": crawl_id,
        "urls": sorted(members(r, keys.webhooks(crawl_id))),
        "failures": [json.loads(text(f)) for f in raw],
    }


class Notifier(Consumer):
    """Delivers the outbox (at least once) on a background thread."""

    group = keys.WEBHOOK_GROUP
    retry_on = (redis.RedisError,)

    def __init__(
        self,
        r: redis.Redis,
        name: str,
        *,
        timeout: float = 5.0,
        tries: int = 3,
        backoff: float = 0.5,
        claim_idle: float = 60.0,
    ) -> None:
        super().__init__(r, name, claim_idle)
        self.timeout, self.tries, self.backoff = timeout, tries, backoff
        self.session = requests.Session()
        self.thread = threading.Thread(target=self.run, name="xtract-notifier", daemon=True)

    def start(self) -> Notifier:
        self.ensure_group(keys.WEBHOOK_OUTBOX)
        self.thread.start()
        return self

    def step(self) -> bool:
        entries = self.read([keys.WEBHOOK_OUTBOX], count=16, block_ms=500)
        entries += self.claim(keys.WEBHOOK_OUTBOX, count=16)
        for entry in entries:
            self.deliver(entry.fields["crawl_id"], entry.fields["body"])
            self.ack(keys.WEBHOOK_OUTBOX, entry.id)
        return True  # the read blocks while the outbox is empty

    def deliver(self, crawl_id: str, body: str) -> None:
        for url in sorted(members(self.r, keys.webhooks(crawl_id))):
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
                self.r.ltrim(keys.webhook_failures(crawl_id), 0, FAILURES_KEPT - 1)
                log.warning("webhook %s gave up: %s", url, error)
