"""Crawl workers as separate processes: sharing a crawl, dying mid-crawl, restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support import Service, flush_all, make_tree, roots_env
from xtract_sdk import XtractEndpoint
from xtract_service import keys


@pytest.fixture
def bare_service(data_root: Path, tmp_path: Path) -> Iterator[Service]:
    """A service with no workers of its own: the tests bring them."""
    env = {**roots_env(data_root), "XTRACT_CRAWL_WORKERS": "0", "XTRACT_DIRS_PER_ENTRY": "2"}
    with Service(tmp_path / "home", env=env) as svc:
        yield svc


def wait_for_workers(svc: Service, n: int, timeout: float = 60) -> None:
    """Until ``n`` crawl workers have connected to the service's Redis."""
    r = redis.Redis.from_url(svc.redis_url)
    deadline = time.monotonic() + timeout
    while sum(c["name"].startswith("xtract-crawl-") for c in r.client_list()) < n:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.1)


def stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        p.terminate()
        p.wait(20)


def test_two_worker_processes_share_a_crawl_and_find_each_file_once(
    bare_service: Service, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir, 4000, fanout=6, depth=3)
    workers = [bare_service.worker(XTRACT_LISTINGS_IN_FLIGHT="2") for _ in range(2)]
    wait_for_workers(bare_service, 2)  # both are up before the crawl starts
    try:
        xtr = bare_service.client()
        ((cid,),) = [xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))]
        status = xtr.wait_for_crawls(cid, progress=False, timeout=120)[cid]
    finally:
        for w in workers:
            stop(w)
    assert status["status"] == "complete"
    served = status["data"]["workers"]
    assert len(served) == 2, f"one worker did all the work: {served}"
    assert sum(served.values()) == 1 + 6 + 36 + 216
    paths = [f["path"] for f in flush_all(xtr, cid)]
    assert len(paths) == len(set(paths)) == len(tree) == status["data"]["files_crawled"]


def test_directories_held_by_a_dead_worker_are_redelivered_and_counted_once(
    bare_service: Service, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir, 6000, fanout=6, depth=3)
    xtr = bare_service.client()
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    # a worker that took the root directory and died before committing it
    r = redis.Redis.from_url(bare_service.redis_url)
    taken = r.xreadgroup("crawlers", "ghost", {keys.dirs(cid): ">"}, count=1)
    assert taken, "the root directory should have been on the frontier"

    a = bare_service.worker(XTRACT_LISTINGS_IN_FLIGHT="4")
    try:
        deadline = time.monotonic() + 60
        while xtr.get_crawl_status(cid)["data"]["dirs_crawled"] < 20:
            assert time.monotonic() < deadline, "the ghost's directory was never reclaimed"
            time.sleep(0.02)
        os.kill(a.pid, signal.SIGKILL)  # dies holding whatever it was listing
        a.wait()
    finally:
        stop(a)
    b = bare_service.worker()
    try:
        status = xtr.wait_for_crawls(cid, progress=False, timeout=120)[cid]
    finally:
        stop(b)
    assert status["status"] == "complete"
    assert status["data"]["files_crawled"] == len(tree)
    paths = [f["path"] for f in flush_all(xtr, cid)]
    assert len(paths) == len(set(paths)) == len(tree)


def test_service_replaces_a_worker_that_dies(service: Service, tree_dir: Path) -> None:
    assert service.proc is not None
    children = service.worker_pids()
    assert len(children) == 2
    os.kill(int(children[0]), signal.SIGKILL)
    deadline = time.monotonic() + 20
    while True:
        now = service.worker_pids()
        if len(now) == 2 and children[0] not in now:
            break
        assert time.monotonic() < deadline, f"worker not replaced: {now}"
        time.sleep(0.2)
    tree = make_tree(tree_dir, 300)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    assert xtr.get_crawl_status(cid)["data"]["files_crawled"] == len(tree)


def test_webhook_delivery_and_retention_are_roles_of_their_own_and_come_back(
    service: Service,
) -> None:
    """The supervisor starts each role directly (no CLI in between) and replaces a
    webhooks or retention process that dies, as it does a crawl worker."""
    for role in ("webhooks", "retention"):
        (pid,) = service.worker_pids(role)
        os.kill(int(pid), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (now := service.worker_pids(role)) in ([], [pid]):
            assert time.monotonic() < deadline, f"{role} not replaced: {now}"
            time.sleep(0.2)
        assert len(now) == 1
    # the offload role no longer delivers webhooks or sweeps beside its jobs
    assert len(service.worker_pids("offload")) == 1
