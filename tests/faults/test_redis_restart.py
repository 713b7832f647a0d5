"""kill -9 of the embedded redis-server under a running service: the supervisor starts
it again on the same append-only file, the service answers again, what was committed
before the kill is still there, and new work runs."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.support import Service, flush_all, make_tree, roots_env
from xtract_sdk import XtractEndpoint


def test_a_killed_embedded_redis_server_is_started_again_and_nothing_is_lost(
    data_root: Path, tmp_path: Path, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir / "before", 200)
    with Service(tmp_path / "home", env=roots_env(data_root)) as svc:
        xtr = svc.client()
        (before,) = xtr.crawl_and_wait(
            XtractEndpoint("local", dirs=[str(tree_dir / "before")]), progress=False
        )
        time.sleep(1.5)  # the append-only file is fsynced every second
        pidfile = svc.home / "redis" / "redis.pid"
        old = int(pidfile.read_text())
        os.kill(old, signal.SIGKILL)
        killed = time.monotonic()
        deadline = killed + 60  # a hang guard, not a timing
        while not (svc.healthy() and int(pidfile.read_text() or 0) != old):
            assert time.monotonic() < deadline, "the redis-server was not started again"
            time.sleep(0.2)
        print(f"redis-server back after {time.monotonic() - killed:.1f} s")
        assert xtr.get_crawl_status(before)["status"] == "complete"
        assert len(flush_all(xtr, before)) == len(tree)
        after = make_tree(tree_dir / "after", 50)
        (cid,) = xtr.crawl_and_wait(
            XtractEndpoint("local", dirs=[str(tree_dir / "after")]), progress=False, timeout=120
        )
        assert xtr.get_crawl_status(cid)["data"]["files_crawled"] == len(after)
