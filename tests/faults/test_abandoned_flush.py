"""A flush call the client abandons loses nothing (issue 21, finding 10): the files it
took are leased, handed out again once the API sees the caller gone, and a later call
gets them; the published loop still receives every file."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis

from tests.support import Service, flush_all, make_tree, roots_env
from xtract_sdk import XtractEndpoint
from xtract_service import keys


def abandon(url: str, path: str, body: dict, headers: dict[str, str]) -> None:
    """Send a POST and hang up without reading the answer."""
    parts = urlsplit(url)
    raw = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(raw)}\r\n{head}Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request + raw)


def settle(r: redis.Redis, crawl_id: str) -> None:
    """Give the API the time to see the abandoned calls go (up to 10 s): until every
    lease they took is returned, none held or acknowledged. Otherwise the loop below,
    the same consumer, can overtake them on a loaded machine: its first call takes a
    lease still held for received, whose files come back only once the loop has been
    told the queue is empty (CI saw 900 files missing that way)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        fields = [
            f if isinstance(f, str) else f.decode() for f in r.hkeys(keys.flush_leases(crawl_id))
        ]
        held = any(f.startswith("consumer:") for f in fields) or r.hlen(keys.flush_acked(crawl_id))
        if fields and not held:
            return
        time.sleep(0.05)


def test_three_abandoned_flushes_lose_no_file(
    data_root: Path, tmp_path: Path, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir / "data", 3000)
    with Service(tmp_path / "home", env=roots_env(data_root)) as svc:
        xtr = svc.client()
        xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir / "data")]), progress=False)
        cid = xtr.crawl_ids[-1]
        auth = {"Authorization": f"Bearer {svc.token}"}
        for _ in range(3):  # the v1 route three times, then the published one
            abandon(svc.url, f"/v1/crawls/{cid}/flush", {"first_n_files": 1000}, auth)
        abandon(svc.url, "/fetch_crawl_mdata", {"crawl_id": cid, "n": 1000}, auth)
        settle(redis.Redis.from_url(svc.redis_url), cid)
        got = [f["path"] for f in flush_all(xtr, cid, page=700)]
        assert sorted(got) == sorted(tree)
        assert len(got) == len(set(got))
