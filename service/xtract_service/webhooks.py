"""Webhooks: URLs a crawl's lifecycle events are POSTed to, and the notifier that
delivers them from the outbox stream.

Each delivery is a JSON POST ``{event, kind, crawl_id, status, at, data}`` signed with
the webhook's own secret (shown once, when it is added): ``X-Xtract-Signature:
sha256=HMAC(secret, "<X-Xtract-Timestamp>." + body)``. A receiver checks it like any
signed webhook.

What a webhook may reach: ``http``/``https`` only, no redirects followed, and only
public addresses (:func:`public`: what ``ipaddress`` calls global, and the IPv4 address
inside an IPv4-mapped, 6to4 or NAT64 address as well; no loopback, private, shared
CGNAT, link-local, multicast or reserved address) unless
``XTRACT_WEBHOOK_ALLOW`` names it (an address, a network like ``10.0.0.0/8``, or a
host name). Addresses are checked when a webhook is added and again, resolved afresh,
before every delivery. A failed delivery is reported as ``HTTP <status>``, ``no
answer`` or ``redirect refused``, never with the network error's details, so webhooks
cannot be used to map a network.

Each owner with deliveries waiting has a lane of their own (two threads: at most two in
flight per owner, and one per crawl, so a crawl's events arrive in the order they
happened), each delivery with its own time budget (``XTRACT_WEBHOOK_TIMEOUT`` per try,
``XTRACT_WEBHOOK_TRIES`` tries): one owner's slow receivers fill only their own lane
and delay nobody else's. A webhook that keeps failing
is recorded and given up on; it never fails the run it reports on.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit

import redis
import requests

from xtract_service import crawl_record, keys
from xtract_service.errors import BadRequest
from xtract_service.redis_client import Entry, Mapping, hash_of, members, replicated, text
from xtract_service.streams import Consumer
from xtract_service.vault import Vault

log = logging.getLogger(__name__)
FAILURES_KEPT = 100
FAILURES_SHOWN = 20
PER_OWNER = 2  # deliveries in flight per owner
BACKLOG = 200  # outbox entries held, waiting for their owner's turn


class Refused(ValueError):
    """A webhook address this service will not call."""


def _allowed(address: str, host: str, allow: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    for rule in allow:
        if rule == host:
            return True
        try:
            if ip in ipaddress.ip_network(rule, strict=False):
                return True
        except ValueError:
            continue
    return False


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the IPv4 address inside


def public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``ip`` is a public Internet address (``ipaddress`` says global: not
    private, loopback, link-local, shared CGNAT space, reserved, ...), not multicast, and
    so is any IPv4 address it carries (IPv4-mapped, 6to4, NAT64; Teredo is never
    global)."""
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inside = [ip.ipv4_mapped, ip.sixtofour]
        if ip in NAT64:
            inside.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in ipaddress.ip_network("64:ff9b:1::/48"):  # local-use NAT64: a local network
            return False
        return all(v4 is None or public(v4) for v4 in inside)
    return True


def resolve(url: str, allow: list[str]) -> list[str]:
    """The addresses ``url`` reaches; Refused if it is not http(s) or any address is
    one this service does not call (see the module doc)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"webhook {url!r} must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise Refused(f"webhook {url!r} must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        raise Refused(f"webhook {url!r}: its host does not resolve") from None
    addresses = sorted({str(a[4][0]) for a in found})
    for address in addresses:
        if not public(ipaddress.ip_address(address)) and not _allowed(
            address, parts.hostname, allow
        ):
            raise Refused(
                f"webhook {url!r} leads to an address this service does not call; "
                "XTRACT_WEBHOOK_ALLOW can name it"
            )
    return addresses


def check_urls(urls: list[str], allow: list[str]) -> None:
    """BadRequest unless every URL is one this service will call."""
    for url in urls:
        try:
            resolve(url, allow)
        except Refused as exc:
            raise BadRequest(str(exc), "bad_url") from None


def queue_webhooks(
    pipe: redis.client.Pipeline, vault: Vault, crawl_id: str, urls: list[str]
) -> dict[str, str]:
    """A new crawl's webhooks, queued on the pipeline that creates it (so none of its
    events can be missed); returns each URL's signing secret."""
    fresh = {url: secrets.token_urlsafe(32) for url in dict.fromkeys(urls)}
    pipe.sadd(keys.webhooks(crawl_id), *fresh)
    sealed = {url: vault.seal(secret) for url, secret in fresh.items()}
    pipe.hset(keys.webhook_secrets(crawl_id), mapping=Mapping(sealed))
    return fresh


def add_webhooks(
    r: redis.Redis, vault: Vault, crawl_id: str, urls: list[str], allow: list[str]
) -> dict[str, str]:
    """Tell these URLs about the crawl's lifecycle events from now on; returns each new
    URL's signing secret (shown this once; kept only sealed)."""
    check_urls(urls, allow)
    known = members(r, keys.webhooks(crawl_id))
    fresh = {url: secrets.token_urlsafe(32) for url in urls if url not in known}
    pipe = r.pipeline(transaction=True)
    pipe.sadd(keys.webhooks(crawl_id), *urls)
    if fresh:
        sealed = {url: vault.seal(secret) for url, secret in fresh.items()}
        pipe.hset(keys.webhook_secrets(crawl_id), mapping=Mapping(sealed))
    pipe.execute()
    return fresh


def webhook_report(r: redis.Redis, crawl_id: str) -> dict[str, object]:
    """The crawl's webhooks and their newest failed deliveries."""
    raw = r.lrange(keys.webhook_failures(crawl_id), 0, FAILURES_SHOWN - 1)
    return {
        "crawl_id": crawl_id,
        "urls": sorted(members(r, keys.webhooks(crawl_id))),
        "failures": [json.loads(text(f)) for f in raw],
    }


def signature(secret: str, stamp: str, body: str) -> str:
    """The ``X-Xtract-Signature`` of a delivery."""
    mac = hmac.new(secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Notifier(Consumer):
    """Delivers the outbox (at least once): the ``webhooks`` worker role."""

    group = keys.WEBHOOK_GROUP
    retry_on = (redis.RedisError,)

    def __init__(
        self,
        r: redis.Redis,
        name: str,
        vault: Vault,
        *,
        allow: list[str] | None = None,
        timeout: float = 5.0,
        tries: int = 3,
        backoff: float = 0.5,
        claim_idle: float = 60.0,
    ) -> None:
        super().__init__(r, name, claim_idle)
        self.vault = vault
        self.allow = list(allow or [])
        self.timeout, self.tries, self.backoff = timeout, tries, backoff
        self.session = requests.Session()
        # one lane per owner with work: a slow receiver fills only its owner's lane
        self.lanes: dict[str, ThreadPoolExecutor] = {}
        self.backlog: dict[str, deque[Entry]] = {}  # owner -> entries waiting
        self.in_flight: dict[str, dict[Future[None], str]] = {}  # owner -> delivery -> crawl

    def open(self) -> None:
        self.ensure_group(keys.WEBHOOK_OUTBOX)

    def close(self) -> None:
        for lane in self.lanes.values():
            lane.shutdown(wait=False, cancel_futures=True)

    def step(self) -> bool:
        waiting = sum(len(q) for q in self.backlog.values())
        if waiting < BACKLOG:
            held = [e.id for q in self.backlog.values() for e in q]
            entries = self.read([keys.WEBHOOK_OUTBOX], count=16, block_ms=200)
            entries += self.claim(keys.WEBHOOK_OUTBOX, count=16, held=held)
            for entry in entries:
                owner = crawl_record.owner(self.r, entry.fields["crawl_id"]) or ""
                self.hold(keys.WEBHOOK_OUTBOX, entry.id)
                self.backlog.setdefault(owner, deque()).append(entry)
        started = False
        for owner, queue in self.backlog.items():
            running = {f: c for f, c in self.in_flight.get(owner, {}).items() if not f.done()}
            later: deque[Entry] = deque()
            for entry in queue:  # in order: a crawl's later events wait for its earlier
                crawl_id = entry.fields["crawl_id"]
                if len(running) < PER_OWNER and crawl_id not in running.values():
                    running[self._lane(owner).submit(self._deliver_entry, entry)] = crawl_id
                    started = True
                else:
                    later.append(entry)
            self.backlog[owner] = later
            self.in_flight[owner] = running
        self._close_idle_lanes()
        return started or waiting == 0  # the read blocks while the outbox is empty

    def _lane(self, owner: str) -> ThreadPoolExecutor:
        if owner not in self.lanes:
            name = f"xtract-webhook-{len(self.lanes)}"
            self.lanes[owner] = ThreadPoolExecutor(PER_OWNER, thread_name_prefix=name)
        return self.lanes[owner]

    def _close_idle_lanes(self) -> None:
        for owner in [
            o for o in self.lanes if not self.backlog.get(o) and not self.in_flight.get(o)
        ]:
            self.lanes.pop(owner).shutdown(wait=False)
            self.backlog.pop(owner, None)
            self.in_flight.pop(owner, None)

    def _deliver_entry(self, entry: Entry) -> None:
        try:
            self.deliver(entry.fields["crawl_id"], entry.fields["body"])
            self.ack(keys.WEBHOOK_OUTBOX, entry.id)
        except Exception:  # a bug must not kill the pool thread; the entry is redelivered
            log.exception("webhook delivery of %s failed", entry.id)
        finally:
            self.release(keys.WEBHOOK_OUTBOX, entry.id)

    def deliver(self, crawl_id: str, body: str) -> None:
        replicated(self.r, keys.crawl_fence(crawl_id))  # what it reports survives a failover
        sealed = hash_of(self.r, keys.webhook_secrets(crawl_id))
        for url in sorted(members(self.r, keys.webhooks(crawl_id))):
            error = self._post(url, body, self.vault.open(sealed[url]) if url in sealed else "")
            if error is None:
                continue
            failure = {
                "url": url,
                "error": error,
                "event": json.loads(body)["event"],
                "at": time.time(),
            }
            self.r.lpush(keys.webhook_failures(crawl_id), json.dumps(failure))
            self.r.ltrim(keys.webhook_failures(crawl_id), 0, FAILURES_KEPT - 1)
            log.warning("webhook %s gave up: %s", url, error)

    def _post(self, url: str, body: str, secret: str) -> str | None:
        """None when delivered; else what went wrong, in words that reveal nothing of
        the network."""
        error = "no attempt"
        for attempt in range(self.tries):
            try:
                resolve(url, self.allow)  # afresh: the name may point elsewhere by now
            except Refused:
                return "address not allowed"
            stamp = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-Xtract-Timestamp": stamp}
            if secret:
                headers["X-Xtract-Signature"] = signature(secret, stamp, body)
            try:
                resp = self.session.post(
                    url, data=body, timeout=self.timeout, headers=headers, allow_redirects=False
                )
                if resp.status_code < 300:
                    return None
                error = "redirect refused" if resp.is_redirect else f"HTTP {resp.status_code}"
            except requests.RequestException:
                error = "no answer"
            if attempt + 1 < self.tries:
                time.sleep(self.backoff * 2**attempt)
        return error
