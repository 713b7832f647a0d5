"""Globus crawls listed next to the data: the crawl worker sends each frontier entry's
folders to the same local walker running on a Globus Compute endpoint (the Compute
emulator, driven by the real globus-sdk clients), instead of one Transfer listing per
folder page. A 200,000-entry folder, which Transfer refuses to list, is listed whole; a
Compute endpoint that refuses the walker leaves the crawl to Transfer listings, and the
crawl says so."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.compute import ComputeEmulator, pickled_touch
from tests.emulators.transfer import TransferEmulator
from tests.support import Service, flush_all, make_tree, read_events, roots_env
from xtract_sdk import XtractClient, XtractEndpoint

ENDPOINT = str(uuid.uuid4())
FUNCX = str(uuid.uuid4())
TRANSFER_TOKEN = "transfer-token-for-compute-crawls"
COMPUTE_TOKEN = "compute-token-for-compute-crawls"
BIG = 200_000


@pytest.fixture(scope="module")
def globus_root(data_root: Path) -> Iterator[Path]:
    """The collection's files: in memory (/dev/shm) where there is one, since a
    200,000-entry folder takes a minute to make on this disk and two seconds there."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else data_root
    root = Path(tempfile.mkdtemp(prefix="xtract-collection-", dir=base))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def world(
    globus_root: Path, data_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, TransferEmulator, ComputeEmulator]]:
    with (
        TransferEmulator(globus_root, ENDPOINT, TRANSFER_TOKEN) as transfer,
        ComputeEmulator(FUNCX, COMPUTE_TOKEN) as compute,
    ):
        env = {
            **roots_env(data_root),
            "GLOBUS_SDK_SERVICE_URL_TRANSFER": transfer.url,
            "GLOBUS_SDK_SERVICE_URL_COMPUTE": compute.url,
            "XTRACT_COMPUTE_POLL_SECONDS": "0.05",
            "XTRACT_GLOBUS_REQUESTS_PER_SECOND": "1000",
        }
        svc = Service(tmp_path_factory.mktemp("compute-crawl-home"), env=env).start()
        yield svc, transfer, compute
        svc.stop()


def client(svc: Service) -> XtractClient:
    return svc.client(tokens={"Transfer": TRANSFER_TOKEN, "Compute": COMPUTE_TOKEN})


def crawl(
    svc: Service, path: str, funcx: str | None, root: Path, since: str | None = None
) -> tuple[str, dict[str, Any]]:
    xep = XtractEndpoint(
        "globus",
        globus_ep_id=ENDPOINT,
        funcx_ep_id=funcx,
        dirs=[path],
        skip=["*.skip"],
        collection_root=str(root),
    )
    xtr = client(svc)
    ((cid, status),) = xtr.crawl_and_wait(xep, progress=False, timeout=300, since=since).items()
    return cid, status


@pytest.fixture(scope="module")
def big_tree(globus_root: Path) -> dict[str, int]:
    """A 200,000-entry folder beside a small ordinary tree."""
    tree = make_tree(globus_root / "run" / "small", 2000, fanout=4, depth=4)  # 341 folders
    big = globus_root / "run" / "big"
    big.mkdir(parents=True)
    for i in range(BIG):
        os.close(os.open(big / f"f{i:06d}.dat", os.O_CREAT | os.O_WRONLY, 0o644))
    (big / "ignored.skip").write_text("skipped by pattern")
    return {**tree, **{str(big / f"f{i:06d}.dat"): 0 for i in range(BIG)}}


def test_a_compute_listed_crawl_lists_a_200000_entry_folder_with_no_transfer_calls(
    world: tuple[Service, TransferEmulator, ComputeEmulator],
    big_tree: dict[str, int],
    globus_root: Path,
) -> None:
    svc, transfer, compute = world
    before, tasks_before = transfer.requests, len(compute.submissions)
    cid, status = crawl(svc, "/run", FUNCX, globus_root)
    transfer_calls = transfer.requests - before
    tasks = len(compute.submissions) - tasks_before
    assert status["status"] == "complete", status
    assert status["data"]["lister"] == "compute"
    assert status["data"]["files_crawled"] == len(big_tree)
    files = flush_all(client(svc), cid, page=10_000)
    root = str(globus_root)
    assert {root + f["path"]: f["size"] for f in files} == big_tree

    # the same tree through Transfer: one listing per folder page, and the big folder
    # refused by Transfer (an error record that names it, never a silent skip)
    before = transfer.requests
    _, plain_status = crawl(svc, "/run", None, globus_root)
    plain_calls = transfer.requests - before
    assert plain_status["data"]["lister"] == "transfer"
    assert plain_status["data"]["files_crawled"] == len(big_tree) - BIG
    refused = plain_status["data"]["error_samples"]
    assert any(e["path"] == "/run/big" and "100000" in e["error"] for e in refused)

    # Transfer: a call per folder page; Compute: a task per frontier entry (many
    # folders each) and per 50,000 entries
    assert transfer_calls == 0 and plain_calls >= 342
    print(f"compute tasks {tasks}, transfer calls of the plain crawl {plain_calls}")
    assert tasks * 4 <= plain_calls, (tasks, plain_calls)


def test_a_compute_listed_recrawl_compares_the_folders_the_walker_listed_on_the_way(
    world: tuple[Service, TransferEmulator, ComputeEmulator], globus_root: Path
) -> None:
    """One Compute task lists the whole tree, deep folders included: each of them is
    compared with the earlier crawl too, not taken for new."""
    svc, _, _ = world
    tree = make_tree(globus_root / "again", 200, fanout=3, depth=3)
    first, _ = crawl(svc, "/again", FUNCX, globus_root)
    deep = max(tree, key=lambda p: p.count("/"))
    Path(deep).write_bytes(b"edited, longer than before: " * 10)
    os.unlink(min(tree))
    second, s2 = crawl(svc, "/again", FUNCX, globus_root, since=first)
    assert s2["data"]["lister"] == "compute"
    ch = s2["data"]["changes"]
    assert (ch["added"], ch["changed"], ch["removed"]) == (0, 1, 1)
    assert ch["unchanged"] == len(tree) - 2 == s2["data"]["files_crawled"] - 1
    root = str(globus_root)
    assert [root + p for p in client(svc).get_changes(second, "changed")] == [deep]


def test_a_compute_endpoint_that_refuses_the_walker_leaves_the_crawl_to_transfer(
    world: tuple[Service, TransferEmulator, ComputeEmulator], globus_root: Path
) -> None:
    svc, _, compute = world
    tree = make_tree(globus_root / "refused", 120, fanout=2, depth=2)
    compute.refuse = "functions from this service are not allowed here"
    try:
        cid, status = crawl(svc, "/refused", FUNCX, globus_root)
    finally:
        compute.refuse = None
    assert status["status"] == "complete"
    assert status["data"]["files_crawled"] == len(tree)
    assert status["data"]["lister"] == "transfer"
    assert "not allowed here" in status["data"]["fallback_reason"]
    fallbacks = [
        e for e in read_events(svc, cid, "crawl.completed") if e["type"] == "crawl.fallback"
    ]
    assert len(fallbacks) == 1
    assert "not allowed here" in fallbacks[0]["data"]["reason"]
    assert fallbacks[0]["data"]["lister"] == "transfer"
    root = str(globus_root)
    assert {root + f["path"] for f in flush_all(client(svc), cid)} == set(tree)


def test_the_walker_on_the_endpoint_pages_a_big_folder_goes_down_and_stays_inside(
    tmp_path: Path,
) -> None:
    from xtract_service.crawl.repos.walker import walk_folders

    (tmp_path / "data" / "d" / "e").mkdir(parents=True)
    for i in range(25):
        (tmp_path / "data" / f"f{i:02d}").write_text("x")
    (tmp_path / "data" / "d" / "g").write_text("x")
    (tmp_path / "secret").write_text("outside the crawl")
    root = str(tmp_path)
    first = walk_folders(root, ["/data"], [["/data", 0]], page_entries=10)
    (a,) = first["listed"]
    assert len(a["files"]) == 10 and a["subdirs"] == [["/data/d", "/data/d"]]
    assert first["left"] == [["/data", 10]]
    rest = walk_folders(root, ["/data"], [["/data", 10]], page_entries=100)
    assert [x["path"] for x in rest["listed"]] == ["/data"] and rest["left"] == []
    names = [f[0] for x in first["listed"] + rest["listed"] for f in x["files"]]
    assert len(names) == len(set(names)) == 25  # its sub-folder went to the frontier
    whole = walk_folders(root, ["/data"], [["/data", 0]], page_entries=100)
    assert [x["path"] for x in whole["listed"]] == ["/data", "/data/d", "/data/d/e"]
    assert whole["left"] == [] and whole["listed"][1]["files"][0][0] == "g"
    # a sub-folder that does not fit is left for the frontier, not half-listed
    small = walk_folders(root, ["/data"], [["/data", 0]], page_entries=27)
    assert [x["path"] for x in small["listed"]] == ["/data"]
    assert small["left"] == [["/data/d", 0]]
    outside = walk_folders(root, ["/data"], [["/../secret", 0], ["/", 0]])
    assert all(x["files"] == [] and x["unreadable"] == 1 for x in outside["listed"])


def test_a_pickled_walker_answer_is_never_loaded_and_the_crawl_goes_on_with_transfer(
    world: tuple[Service, TransferEmulator, ComputeEmulator], globus_root: Path
) -> None:
    svc, _, compute = world
    tree = make_tree(globus_root / "hostile-walker", 30, fanout=2, depth=1)
    marker = globus_root / "the-endpoint-ran-code-here"
    compute.answer = pickled_touch(marker)
    try:
        cid, status = crawl(svc, "/hostile-walker", FUNCX, globus_root)
    finally:
        compute.answer = None
    assert not marker.exists(), "a pickle from the endpoint was loaded in the crawl worker"
    assert status["status"] == "complete" and status["data"]["lister"] == "transfer"
    assert "other than JSON" in status["data"]["fallback_reason"]
    root = str(globus_root)
    assert {root + f["path"] for f in flush_all(client(svc), cid)} == set(tree)


def _walker_lies(kind: str) -> Callable[[Any], str]:
    """A hostile endpoint's walker answer, made from the true one."""
    from globus_compute_sdk.serialize import JSONData

    def answer(true: Any) -> str:
        lie = json.loads(json.dumps(true))
        first = lie["listed"][0]
        if kind == "not_asked":
            lie["listed"].append({**first, "path": "/etc", "files": [["shadow", 1, 1.0]]})
            lie["listed"][-1]["stamps"] = [1]
        elif kind == "dotdot":
            first["files"].append(["../../etc/passwd", 1, 1.0])
            first["stamps"] = first["stamps"] + [1] if first["stamps"] else []
        elif kind == "nul":
            first["files"].append(["a\x00b", 1, 1.0])
            first["stamps"] = first["stamps"] + [1] if first["stamps"] else []
        else:  # a million entries
            first["files"] += [[f"f{i}", 1, 1.0] for i in range(1_000_000)]
            first["stamps"] = []
        return str(JSONData().serialize(lie))

    return answer


@pytest.mark.parametrize("kind", ["not_asked", "dotdot", "nul", "million"])
def test_a_walker_answer_that_lies_is_refused_and_the_crawl_goes_on_with_transfer(
    world: tuple[Service, TransferEmulator, ComputeEmulator], globus_root: Path, kind: str
) -> None:
    svc, _, compute = world
    tree = make_tree(globus_root / f"lying-{kind}", 12)
    compute.answer = _walker_lies(kind)
    try:
        cid, status = crawl(svc, f"/lying-{kind}", FUNCX, globus_root)
    finally:
        compute.answer = None
    assert status["status"] == "complete" and status["data"]["lister"] == "transfer"
    reason = status["data"]["fallback_reason"]
    assert (reason and "unreadable result" not in reason) or kind == "million", reason
    root = str(globus_root)
    assert {root + f["path"] for f in flush_all(client(svc), cid)} == set(tree)
