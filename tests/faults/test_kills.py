"""kill -9 of each role at random points, over several trials: a crawl worker while it
lists, an orchestrator while it extracts, an offload worker while it writes, the API
process and the embedded redis-server while a crawl runs. After each
kill the supervisor starts a replacement, the work the dead process held is taken over
(heartbeats stop, so after the claim idle time), and the result holds every file exactly
once: nothing lost, nothing duplicated, counters exact.

Each trial's outcome (for crawls: how long until everything the dead worker held was
committed by another) is appended to
``$XTRACT_FAULT_LOG`` when set; ``docs/RELIABILITY.md`` reports a run of it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support import Service, all_documents, flush_all, make_tree, roots_env
from xtract_sdk import XtractClient, XtractEndpoint
from xtract_service import keys

TRIALS = int(os.environ.get("XTRACT_FAULT_TRIALS", "2"))  # CI; `make faults` runs 8
# the API and redis-server trials (each restarts a process the whole service leans on)
SERVICE_TRIALS = int(os.environ.get("XTRACT_FAULT_SERVICE_TRIALS", "2"))
CLAIM_IDLE = os.environ.get("XTRACT_FAULT_CLAIM_IDLE", "6")  # the default
SEED = int(os.environ.get("XTRACT_FAULT_SEED", "20261122"))


@pytest.fixture(scope="module")
def faulty(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    env = {
        **roots_env(data_root),
        "XTRACT_CLAIM_IDLE_SECONDS": CLAIM_IDLE,
        "XTRACT_DIRS_PER_ENTRY": "4",
        "XTRACT_EXTRACT_BATCH_FILES": "10",
        "XTRACT_RECORDS_PER_ENTRY": "40",
    }
    with Service(tmp_path_factory.mktemp("faults-home"), env=env) as svc:
        yield svc


def log_trial(role: str, trial: int, **found: Any) -> None:
    path = os.environ.get("XTRACT_FAULT_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"role": role, "trial": trial, **found}) + "\n")


def kill_one(svc: Service, role: str) -> int:
    deadline = time.monotonic() + 30
    while not (pids := svc.worker_pids(role)):
        assert time.monotonic() < deadline, f"no {role} process to kill"
        time.sleep(0.05)
    victim = int(random.choice(pids))
    os.kill(victim, signal.SIGKILL)
    return victim


def faulty_pending(r: redis.Redis, crawl_id: str) -> set[str]:
    """Frontier entries delivered to a worker and not yet committed."""
    pending = r.xpending_range(keys.dirs(crawl_id), "crawlers", "-", "+", 1000)
    return {str(p["message_id"]) for p in pending}


def every_file_once(status: dict[str, Any], paths: list[str], tree: dict[str, int]) -> None:
    """The crawl completed with every file of the tree flushed exactly once."""
    assert status["status"] == "complete"
    assert status["data"]["files_crawled"] == len(tree)
    assert len(paths) == len(set(paths)) == len(tree)
    assert set(paths) == set(tree)


def until(check: Callable[[], bool], what: str, timeout: float = 120) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, what
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_crawl_worker_killed_while_listing_loses_and_repeats_nothing(
    faulty: Service, data_root: Path, trial: int
) -> None:
    rng = random.Random(SEED + trial)
    root = data_root / f"fault-crawl-{trial}"
    tree = make_tree(root, 3000, fanout=5, depth=3)
    xtr = faulty.client()
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(root)]))

    def dirs() -> int:
        return int(xtr.get_crawl_status(cid)["data"]["dirs_crawled"])

    until(lambda: dirs() >= rng.randint(1, 40), "the crawl never started")
    kill_one(faulty, "crawl")
    killed = time.monotonic()
    r = redis.Redis.from_url(faulty.redis_url, decode_responses=True)
    held = faulty_pending(r, cid)
    # recovered: every entry held when the worker died has been committed by another
    recovery = until(lambda: not faulty_pending(r, cid) & held, "never taken over")
    status = xtr.wait_for_crawls(cid, progress=False, timeout=180)[cid]
    paths = [f["path"] for f in flush_all(xtr, cid)]
    log_trial(
        "crawl",
        trial,
        files=len(tree),
        found=len(paths),
        unique=len(set(paths)),
        held_at_kill=len(held),
        seconds_to_take_over=round(recovery, 2),
        seconds_kill_to_done=round(time.monotonic() - killed, 2),
    )
    every_file_once(status, paths, tree)


def crawl_through(
    svc: Service, data_root: Path, name: str, trial: int, kill: Callable[[], object]
) -> None:
    """Crawl a 3,000-file tree, ``kill`` at a seeded point of it, and check the crawl
    still ends with every file once; logs how long the service took to answer again
    and to commit listings again."""
    rng = random.Random(SEED * 11 + trial + len(name))
    root = data_root / f"fault-{name}-{trial}"
    tree = make_tree(root, 3000, fanout=5, depth=3)
    xtr = svc.client()
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(root)]))
    r = redis.Redis.from_url(svc.redis_url, decode_responses=True)

    def dirs() -> int:
        try:
            return int(r.hget(keys.crawl(cid), "dirs_done") or 0)
        except redis.ConnectionError:
            return -1

    until(lambda: dirs() >= rng.randint(1, 40), "the crawl never started")
    before = dirs()
    kill()
    killed = time.monotonic()
    answering = until(svc.healthy, "the service never answered again")
    listing = until(
        lambda: dirs() > before or xtr.get_crawl_status(cid)["status"] == "complete",
        "listing never resumed",
    )
    status = xtr.wait_for_crawls(cid, progress=False, timeout=180)[cid]
    paths = [f["path"] for f in flush_all(xtr, cid)]
    log_trial(
        name,
        trial,
        files=len(tree),
        found=len(paths),
        unique=len(set(paths)),
        seconds_to_answer=round(answering, 2),
        seconds_to_resume=round(answering + listing, 2),
        seconds_kill_to_done=round(time.monotonic() - killed, 2),
    )
    every_file_once(status, paths, tree)


@pytest.mark.parametrize("trial", range(SERVICE_TRIALS))
def test_the_api_process_killed_during_a_crawl_is_replaced_and_loses_nothing(
    faulty: Service, data_root: Path, trial: int
) -> None:
    crawl_through(faulty, data_root, "api", trial, lambda: kill_one(faulty, "api"))


@pytest.mark.parametrize("trial", range(SERVICE_TRIALS))
def test_the_redis_server_killed_during_a_crawl_is_restarted_and_loses_nothing(
    faulty: Service, data_root: Path, trial: int
) -> None:
    pidfile = faulty.home / "redis" / "redis.pid"
    crawl_through(
        faulty,
        data_root,
        "redis-server",
        trial,
        lambda: os.kill(int(pidfile.read_text()), signal.SIGKILL),
    )


@pytest.fixture(scope="module")
def text_tree(data_root: Path) -> dict[str, int]:
    root = data_root / "fault-extract"
    root.mkdir(exist_ok=True)
    files = {}
    for i in range(240):
        p = root / f"d{i % 6}" / f"note{i}.txt"
        p.parent.mkdir(exist_ok=True)
        p.write_text(f"fault trial note {i} with a few words about sample {i % 13}\n")
        files[str(p)] = i
    return files


def extracted(faulty: Service, text_tree: dict[str, int]) -> tuple[XtractClient, str]:
    root = str(Path(next(iter(text_tree))).parent.parent)
    xtr = faulty.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[root]), progress=False)
    return xtr, cid


@pytest.mark.parametrize("trial", range(TRIALS))
def test_an_orchestrator_killed_while_extracting_records_each_family_once(
    faulty: Service, text_tree: dict[str, int], trial: int
) -> None:
    rng = random.Random(SEED * 3 + trial)
    xtr, cid = extracted(faulty, text_tree)
    xtr.xtract(cid)

    def extracted_so_far() -> int:
        return int(xtr.get_xtract_status(cid)["xtract_counters"]["fx"]["success"])

    until(lambda: extracted_so_far() >= rng.randint(1, 60), "extraction never started")
    before = extracted_so_far()
    kill_one(faulty, "orchestrator")
    resumed = until(
        lambda: (
            extracted_so_far() > before
            or xtr.get_xtract_status(cid)["xtract_status"] in ("COMPLETED", "FAILED")
        ),
        "extraction never resumed",
        timeout=180,
    )
    (status,) = xtr.wait_for_xtract(cid, progress=False, timeout=180)
    docs = all_documents(xtr, cid)
    fx = status["xtract_counters"]["fx"]
    paths = [f["path"] for d in docs for f in d["files"]]
    log_trial(
        "orchestrator",
        trial,
        files=len(text_tree),
        documents=len(docs),
        unique=len(set(paths)),
        pending=fx["pending"],
        seconds_to_resume=round(resumed, 2),
    )
    assert status["xtract_status"] == "COMPLETED"
    assert fx["success"] == len(text_tree) and fx["failed"] == 0 and fx["pending"] == 0
    assert len(paths) == len(set(paths)) == len(text_tree)
    assert set(paths) == set(text_tree)
    assert all("keyword" in next(iter(d["metadata"].values())) for d in docs)
    out = Path(status["local_mdata_path"])
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{d['family_id']}.json" for d in docs)


@pytest.mark.parametrize("trial", range(TRIALS))
def test_an_offload_worker_killed_while_writing_writes_each_file_once(
    faulty: Service, text_tree: dict[str, int], data_root: Path, trial: int
) -> None:
    rng = random.Random(SEED * 7 + trial)
    xtr, cid = extracted(faulty, text_tree)
    (status,) = xtr.xtract_and_wait(cid, progress=False, timeout=180)
    assert status["xtract_status"] == "COMPLETED"
    dest = data_root / f"fault-offload-{trial}"
    dest.mkdir(exist_ok=True)
    time.sleep(rng.uniform(0, 0.3))
    xtr.offload_metadata(
        dest_path=str(dest),
        crawl_ids=[cid],
        format="jsonl",
        format_params={"max_items": 7},
        wait=False,
    )
    time.sleep(rng.uniform(0.05, 0.5))
    kill_one(faulty, "offload")
    (job,) = [j for j in xtr.get_offload_status(cid)]
    finished = until(
        lambda: xtr.get_offload_status(cid)[0]["status"] in ("COMPLETED", "FAILED"),
        "the offload never finished",
        timeout=180,
    )
    job = xtr.get_offload_status(cid)[0]
    folder = Path(job["destination"])
    items = [
        json.loads(line)
        for part in sorted(folder.glob("part-*.jsonl"))
        for line in part.read_text().splitlines()
    ]
    paths = [i["path"] for i in items]
    log_trial(
        "offload",
        trial,
        files=len(text_tree),
        items=len(items),
        unique=len(set(paths)),
        seconds_kill_to_done=round(finished, 2),
    )
    assert job["status"] == "COMPLETED", job
    assert len(paths) == len(set(paths)) == len(text_tree) == job["items"]
    assert not [p for p in folder.iterdir() if ".partial" in p.name]
