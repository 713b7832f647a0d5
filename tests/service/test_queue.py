"""An owner's extractions are served first-come-first-served (issue 25, item 3): a run
started later waits behind the owner's earlier ones, and its status says so (QUEUED,
its place, what it waits for) in the SDK, the REST status and the CLI."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Service, all_documents, make_tree, roots_env
from xtract_sdk import XtractEndpoint


@pytest.fixture
def one_slot(data_root: Path, tmp_path: Path) -> Iterator[Service]:
    """One orchestrator with room for one batch of five files in flight."""
    env = {
        **roots_env(data_root),
        "XTRACT_ORCHESTRATORS": "1",
        "XTRACT_EXTRACT_BATCHES_IN_FLIGHT": "1",
        "XTRACT_EXTRACT_BATCH_FILES": "5",
    }
    with Service(tmp_path / "home", env=env) as svc:
        yield svc


def test_an_owners_runs_go_in_the_order_they_were_started(
    one_slot: Service, tree_dir: Path
) -> None:
    xtr = one_slot.client()
    ids = []
    for name, n in [("first", 300), ("second", 10), ("third", 10), ("fourth", 10)]:
        make_tree(tree_dir / name, n, fanout=2, depth=1)
        ((cid, _),) = xtr.crawl_and_wait(
            XtractEndpoint("local", dirs=[str(tree_dir / name)]), progress=False
        ).items()
        ids.append(cid)
    for cid in ids:  # started one after the other, the first the largest
        xtr.xtract(cid, extractors=[])
        time.sleep(0.05)

    queued = [xtr.get_xtract_status(cid) for cid in ids[1:]]
    for place, (status, cid) in enumerate(zip(queued, ids[1:], strict=True), 2):
        assert status["xtract_status"] == "QUEUED", status
        assert status["queue"] == {"place": place, "waiting_for": ids[: place - 1]}, cid
    env = {**one_slot.full_env(), "XTRACT_URL": one_slot.url}
    said = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "status", ids[3]],
        env=env, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    assert f"QUEUED (4th in line, waiting for {', '.join(ids[:3])})" in said, said

    done = xtr.wait_for_xtract(ids, progress=False, timeout=600)
    assert [d["xtract_status"] for d in done] == ["COMPLETED"] * 4
    assert all(d["queue"] is None for d in done)
    spans = []
    for cid in ids:
        stamps = [d["extracted_at"] for d in all_documents(xtr, cid)]
        spans.append((min(stamps), max(stamps)))
    for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):
        assert later_start >= earlier_end, spans  # each begun after the one before ended
