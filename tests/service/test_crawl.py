"""Crawls through the SDK against the real service: counters and flushed files match
the tree exactly, with each grouper."""

from __future__ import annotations

import os
import threading
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support import Service, flush_all, make_tree
from xtract_extractors.kinds import kind_of
from xtract_sdk import XtractEndpoint
from xtract_service import keys
from xtract_service.crawl.families import families_of


@pytest.mark.parametrize("grouper", ["file_is_group", "directory", "extension"])
def test_crawl_with_each_grouper_matches_the_tree(
    service: Service, tree_dir: Path, grouper: str
) -> None:
    tree = make_tree(tree_dir, 3000)
    xtr = service.client()
    final = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir)], grouper=grouper), progress=False
    )
    ((cid, status),) = final.items()
    assert status["status"] == "complete"
    data = status["data"]
    assert data["files_crawled"] == len(tree)
    assert data["bytes_crawled"] == sum(tree.values())
    assert data["dirs_crawled"] == 1 + 4 + 16 + 64
    assert data["dirs_pending"] == 0
    assert data["errors"] == 0

    files = flush_all(xtr, cid)
    paths = [f["path"] for f in files]
    assert len(paths) == len(set(paths)), "a file was flushed twice"
    assert set(paths) == set(tree)
    assert {f["path"]: f["size"] for f in files} == tree
    assert all(set(f) >= {"path", "size", "extension", "mtime", "family_id"} for f in files)

    families = Counter(f["family_id"] for f in files)
    dirs_with_files = {os.path.dirname(p) for p in tree}
    if grouper == "file_is_group":
        assert len(families) == len(tree)
    elif grouper == "directory":
        assert len(families) == len(dirs_with_files)
    else:
        expected = {(os.path.dirname(p), kind_of(p)) for p in tree}
        assert len(families) == len(expected)
    assert data["families_crawled"] == len(families)
    assert data["groups_crawled"] == len(tree)  # every grouper here reads files one by one


def test_crawl_is_breadth_first(service: Service, tree_dir: Path) -> None:
    make_tree(tree_dir, 400, fanout=3, depth=3)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir)], grouper="directory"), progress=False
    )
    depths = [
        Path(f["path"]).relative_to(tree_dir).parent.parts.__len__() for f in flush_all(xtr, cid)
    ]
    # the frontier hands folders out in FIFO order; with several listings in flight a
    # neighbour may commit a moment before a folder one level up, never two levels
    last_at = {d: max(i for i, x in enumerate(depths) if x == d) for d in set(depths)}
    first_at = {d: min(i for i, x in enumerate(depths) if x == d) for d in set(depths)}
    for d in last_at:
        if d + 2 in first_at:
            assert last_at[d] < first_at[d + 2], f"depth {d + 2} found before depth {d} ended"
    inversions = sum(1 for a, b in pairwise(depths) if a > b)
    assert inversions <= 3, depths


def test_concurrent_flushes_never_return_a_file_twice(service: Service, tree_dir: Path) -> None:
    tree = make_tree(tree_dir, 2000)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    got: list[str] = []
    lock = threading.Lock()

    def drain() -> None:
        c = service.client()
        while True:
            r = c.flush_crawl_metadata(cid, first_n_files=37)
            with lock:
                got.extend(f["path"] for f in r["file_ls"])
            if r["queue_empty"]:
                return

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(tree)
    assert set(got) == set(tree)


def test_flushing_leaves_every_family_for_extraction(service: Service, tree_dir: Path) -> None:
    tree = make_tree(tree_dir, 500)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    assert len(flush_all(xtr, cid)) == len(tree)
    # an extraction reads the families stream through its own consumer group
    r = redis.Redis.from_url(service.redis_url)
    stream = keys.families(cid)
    r.xgroup_create(stream, "xtract", id="0")
    seen = []
    read: Any = r.xreadgroup("xtract", "test", {stream: ">"}, count=100_000)
    for _, entries in read:
        for _, fields in entries:
            seen += [f["path"] for fam in families_of(fields[b"families"]) for f in fam["files"]]
    assert sorted(seen) == sorted(tree)


def test_flush_while_crawling_then_after_gives_each_file_once(
    service: Service, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir, 3000, fanout=5, depth=3)
    xtr = service.client()
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    early = xtr.flush_crawl_metadata(cid, first_n_files=50)["file_ls"]
    xtr.wait_for_crawls(cid, progress=False)
    rest = flush_all(xtr, cid)
    paths = [f["path"] for f in early + rest]
    assert len(paths) == len(set(paths)) == len(tree)


def test_status_and_list_show_the_callers_crawls(service: Service, tree_dir: Path) -> None:
    make_tree(tree_dir, 10)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    listed = {c["crawl_id"]: c for c in xtr.list_crawls()}
    assert listed[cid]["status"] == "complete"
    assert listed[cid]["files_crawled"] == 10
    (status,) = xtr.get_crawl_status()
    assert set(status) == {"crawl_id", "status", "message", "data"}
    assert status["message"] == "OK"


def test_cancel_stops_a_crawl_and_keeps_what_it_found(service: Service, tree_dir: Path) -> None:
    make_tree(tree_dir, 3000, fanout=6, depth=3)
    xtr = service.client()
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    cancelled = xtr.cancel_crawl(cid)
    assert cancelled["status"] in ("cancelled", "complete")  # it may have finished first
    final = xtr.wait_for_crawls(cid, progress=False, timeout=30)[cid]
    assert final["status"] == cancelled["status"]
    found = flush_all(xtr, cid)
    assert len(found) == final["data"]["files_crawled"]
    # cancelling again changes nothing
    assert xtr.cancel_crawl(cid)["status"] == final["status"]
