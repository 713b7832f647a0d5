"""An offload killed part-way resumes where it left off: the output is complete and no
family is written twice."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Service, make_tree, roots_env
from xtract_sdk import XtractEndpoint


@pytest.fixture
def no_offloader(data_root: Path, tmp_path: Path) -> Iterator[Service]:
    with Service(tmp_path / "home", env={**roots_env(data_root), "XTRACT_OFFLOADERS": "0"}) as svc:
        yield svc


@pytest.mark.parametrize("partitions", [1, 3])
def test_an_offload_killed_mid_way_finishes_with_each_family_once(
    no_offloader: Service, tree_dir: Path, partitions: int
) -> None:
    """With partitions, two workers share the writing and one of them is killed."""
    svc = no_offloader
    tree = make_tree(tree_dir / "data", 3000)
    xtr = svc.client()
    xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir / "data")]), progress=False)
    (done,) = xtr.xtract_and_wait(progress=False, extractors=[], timeout=300)
    assert done["xtract_status"] == "COMPLETED"
    cid = xtr.crawl_ids[0]
    out = tree_dir / "out"
    xtr.offload_metadata(
        dest_path=str(out),
        crawl_ids=[cid],
        format="jsonl",
        format_params={"max_items": 5},
        partitions=partitions,
        wait=False,
    )
    other = svc.worker("offload") if partitions > 1 else None
    a = svc.worker("offload")
    try:
        deadline = time.monotonic() + 120
        while (s := xtr.get_offload_status(cid)[0])["parts"] < 40:
            assert time.monotonic() < deadline and a.poll() is None, s
            time.sleep(0.02)
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
    finally:
        if a.poll() is None:
            a.kill()
    killed_at = xtr.get_offload_status(cid)[0]
    assert killed_at["status"] == "WRITING", killed_at
    b = svc.worker("offload")
    try:
        deadline = time.monotonic() + 240
        while (s := xtr.get_offload_status(cid)[0])["status"] not in ("COMPLETED", "FAILED"):
            assert time.monotonic() < deadline, s
            time.sleep(0.2)
    finally:
        for w in (b, other):
            if w is not None:
                w.terminate()
                w.wait(30)
    assert s["status"] == "COMPLETED", s
    assert [p["partition"] for p in s["partitions"] if p["done"]] == list(range(partitions))
    assert sum(p["items"] for p in s["partitions"]) == s["items"]
    folder = Path(s["destination"])
    manifest = json.loads((folder / "manifest.json").read_text())
    names = [p["name"] for p in manifest["parts"]]
    assert sorted(p.name for p in folder.glob("part-*")) == sorted(names)
    paths = [
        json.loads(line)["path"] for n in names for line in (folder / n).read_text().splitlines()
    ]
    assert len(paths) == len(set(paths)) == len(tree) == manifest["items"] == s["items"]
    if partitions > 1:  # each partition wrote a share, under names of its own
        prefixes = {n[: len("part-00-")] for n in names}
        assert prefixes == {f"part-{k:02d}-" for k in range(partitions)}, prefixes
