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


def test_an_offload_killed_mid_way_finishes_with_each_family_once(
    no_offloader: Service, tree_dir: Path
) -> None:
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
        wait=False,
    )
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
        b.terminate()
        b.wait(30)
    assert s["status"] == "COMPLETED", s
    folder = Path(s["destination"])
    manifest = json.loads((folder / "manifest.json").read_text())
    names = [p["name"] for p in manifest["parts"]]
    assert sorted(p.name for p in folder.glob("part-*")) == sorted(names)
    paths = [
        json.loads(line)["path"] for n in names for line in (folder / n).read_text().splitlines()
    ]
    assert len(paths) == len(set(paths)) == len(tree) == manifest["items"] == s["items"]
