"""Webhooks as a weapon: addresses that are not public (shared CGNAT space, and IPv6
addresses carrying a private IPv4 one: 6to4, NAT64, IPv4-mapped, Teredo) are refused;
owners whose receivers never answer fill only their own delivery lane, so another
owner's webhook is delivered while they hang."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from xtract_sdk.status import EventType
from xtract_service import crawl_record
from xtract_service.events import publish
from xtract_service.vault import Vault
from xtract_service.webhooks import Notifier, Refused, add_webhooks, resolve

NOT_PUBLIC = [
    "100.64.1.1",  # shared address space (CGNAT)
    "[2002:7f00:1::1]",  # 6to4 around 127.0.0.1
    "[2002:a00:1::1]",  # 6to4 around 10.0.0.1
    "[64:ff9b::7f00:1]",  # NAT64 around 127.0.0.1
    "[64:ff9b:1::a00:1]",  # local-use NAT64
    "[::ffff:192.168.1.1]",  # IPv4-mapped private
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo
]
PUBLIC = ["8.8.8.8", "[2002:808:808::1]", "[64:ff9b::808:808]", "[2001:4860:4860::8888]"]


@pytest.mark.parametrize("host", NOT_PUBLIC)
def test_an_address_that_is_not_public_is_refused(host: str) -> None:
    with pytest.raises(Refused, match="does not call"):
        resolve(f"https://{host}/hook", [])


@pytest.mark.parametrize("host", PUBLIC)
def test_a_public_address_is_allowed(host: str) -> None:
    assert resolve(f"https://{host}/hook", [])


class Receivers:
    """A loopback receiver: paths under /slow/ hang until released, /fast/ answers."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.fast: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path.startswith("/slow/"):
                    outer.release.wait(30)
                else:
                    outer.fast.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    found = Receivers()
    yield found
    found.release.set()
    found.server.shutdown()


def test_owners_with_hanging_receivers_do_not_delay_another_owners_delivery(
    r: redis.Redis, tmp_path: Path, receivers: Receivers
) -> None:
    vault = Vault(tmp_path / "secret.key")
    vault.ensure_key()
    allow = ["127.0.0.1"]

    def crawl_with_hook(owner: str, kind: str, n: int = 0) -> str:
        cid = f"{owner}-{kind}{n}"
        pipe = r.pipeline()
        crawl_record.create(pipe, cid, owner, '{"dirs": ["/d"]}', 1, 0.0)
        pipe.execute()
        add_webhooks(r, vault, cid, [f"{receivers.url}/{kind}/{cid}"], allow)
        return cid

    # four owners, each with more crawls than deliveries in flight, whose receivers hang
    for owner in ("o1", "o2", "o3", "o4"):
        for n in range(3):
            publish(r, crawl_with_hook(owner, "slow", n), EventType.CRAWL_STARTED)
    # then a fifth owner's one event
    publish(r, crawl_with_hook("o5", "fast"), EventType.CRAWL_STARTED)
    notifier = Notifier(r, "notifier-test", vault, allow=allow, timeout=30, tries=1)
    worker = threading.Thread(target=notifier.run, daemon=True)
    worker.start()
    try:
        for _ in range(100):
            if receivers.fast:
                break
            notifier.stop.wait(0.1)
        assert len(receivers.fast) == 1, "the fifth owner's webhook waited behind the others"
        assert not receivers.release.is_set()  # delivered while all the others hang
    finally:
        receivers.release.set()
        notifier.stop.set()
        worker.join(30)
