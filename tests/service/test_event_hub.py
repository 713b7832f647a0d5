"""Many watchers of one crawl share one Redis reader on the event loop: two hundred
open event streams all receive the crawl's events, the service keeps answering other
requests meanwhile, and Redis sees a handful of connections, not one per watcher."""

from __future__ import annotations

import threading
from pathlib import Path

import redis
import requests

from tests.support import Service, make_tree
from xtract_sdk import XtractEndpoint

WATCHERS = 200


def test_two_hundred_watchers_share_one_reader(service: Service, tree_dir: Path) -> None:
    make_tree(tree_dir, 200, fanout=3, depth=2)
    xtr = service.client()
    headers = {"Authorization": f"Bearer {service.token}"}
    r = redis.Redis.from_url(service.redis_url)
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    opened = threading.Barrier(WATCHERS + 1, timeout=120)
    finished: list[str] = []
    lock = threading.Lock()

    def watch() -> None:
        with requests.get(
            f"{service.url}/v1/crawls/{cid}/events",
            headers=headers,
            stream=True,
            timeout=(30, 120),
        ) as resp:
            opened.wait()
            for line in resp.iter_lines():
                if line.startswith(b"event: crawl.completed"):
                    with lock:
                        finished.append(line.decode())
                    return

    threads = [threading.Thread(target=watch, daemon=True) for _ in range(WATCHERS)]
    for t in threads:
        t.start()
    opened.wait()  # every stream is open
    assert requests.get(f"{service.url}/health", timeout=30).json()["status"] == "ok"
    assert xtr.get_crawl_status(cid)["crawl_id"] == cid
    # one blocked XREAD for all the watchers (plus the workers' own), not one each
    assert r.info("clients")["blocked_clients"] < 10
    xtr.wait_for_crawls(cid, progress=False, timeout=120)
    for t in threads:
        t.join(120)
    assert len(finished) == WATCHERS
