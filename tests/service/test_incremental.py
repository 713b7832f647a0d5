"""Incremental re-crawls (``since=``) against the real service: a tree crawled and
extracted, then changed on disk (files added, edited, removed, renamed, a folder removed
and a folder added), then crawled again with ``since``. The four classes must be exact,
and the second extraction must read only the added and changed files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support import Service, all_documents, issue, read_events, roots_env
from xtract_sdk import BadRequestError, NotFoundError, XtractEndpoint


def doc_per_file(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["path"]: doc for doc in docs for f in doc["files"]}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def build(root: Path) -> None:
    for d in ("a", "a/deep", "b", "gone", "gone/below"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i in range(6):
        write(root / "a" / f"t{i}.txt", f"some words about sample number {i}\n" * 5)
        write(root / "b" / f"r{i}.csv", f"x,y\n{i},{i * 2}\n")
    write(root / "a" / "deep" / "conf.json", json.dumps({"k": 1}))
    write(root / "gone" / "one.txt", "will be removed with its folder\n")
    write(root / "gone" / "below" / "two.txt", "and so will this\n")
    write(root / "keep.md", "# title\n\nunchanged text\n")


def change(root: Path) -> dict[str, set[str]]:
    """Edit the tree; returns the paths each class must hold."""
    r = str(root)
    write(root / "a" / "t0.txt", "edited: a longer text than before, so its size changes\n")
    os.utime(root / "a" / "t1.txt", (1_000_000_000, 1_000_000_000))  # touched: mtime only
    # an edit that keeps the size and sets the mtime back: only the ctime tells
    quiet = root / "a" / "t3.txt"
    was = quiet.stat()
    quiet.write_text(quiet.read_text().upper())
    os.utime(quiet, ns=(was.st_atime_ns, was.st_mtime_ns))
    assert (quiet.stat().st_size, quiet.stat().st_mtime_ns) == (was.st_size, was.st_mtime_ns)
    (root / "a" / "t2.txt").unlink()
    os.rename(root / "b" / "r0.csv", root / "b" / "renamed.csv")
    write(root / "b" / "new.csv", "x,y\n9,9\n")
    write(root / "fresh" / "n.txt", "a new folder with a new file\n")
    shutil.rmtree(root / "gone")
    return {
        "added": {f"{r}/b/renamed.csv", f"{r}/b/new.csv", f"{r}/fresh/n.txt"},
        "changed": {f"{r}/a/t0.txt", f"{r}/a/t1.txt", f"{r}/a/t3.txt"},
        "removed": {
            f"{r}/a/t2.txt",
            f"{r}/b/r0.csv",
            f"{r}/gone/one.txt",
            f"{r}/gone/below/two.txt",
        },
    }


@pytest.fixture
def tree(tree_dir: Path) -> Path:
    build(tree_dir)
    return tree_dir


def test_a_recrawl_since_reports_the_four_classes_exactly_and_extracts_only_what_changed(
    service: Service, tree: Path
) -> None:
    xtr = service.client()
    xep = XtractEndpoint("local", dirs=[str(tree)])
    ((first, s1),) = xtr.crawl_and_wait(xep, progress=False).items()
    assert "changes" not in s1["data"]
    (x1,) = xtr.xtract_and_wait(first, progress=False, timeout=120)
    assert x1["xtract_status"] == "COMPLETED"
    before = doc_per_file(all_documents(xtr, first))

    expected = change(tree)
    ((second, s2),) = xtr.crawl_and_wait(xep, progress=False, since=first).items()
    ch = s2["data"]["changes"]
    total = s2["data"]["files_crawled"]
    assert ch["since"] == first
    assert (ch["added"], ch["changed"], ch["removed"]) == (3, 3, 4)
    assert ch["unchanged"] == total - 6 == 9
    for kind, paths in expected.items():
        assert set(xtr.get_changes(second, kind)) == paths, kind
    assert set(xtr.get_changes(second, "added", page=1)) == expected["added"]  # paged
    completed = read_events(service, second, "crawl.completed")[-1]["data"]
    assert completed["changes"] == {k: ch[k] for k in ("added", "changed", "removed", "unchanged")}

    (x2,) = xtr.xtract_and_wait(second, progress=False, timeout=120)
    assert x2["xtract_status"] == "COMPLETED"
    c = x2["xtract_counters"]
    assert x2["families_carried"] == 9 and c["fx"]["success"] == total
    docs = doc_per_file(all_documents(xtr, second))
    assert set(docs) == {str(p) for p in tree.rglob("*") if p.is_file()}
    fresh = expected["added"] | expected["changed"]
    for path, doc in docs.items():
        if path in fresh:
            assert "carried_from" not in doc, path
            assert doc["extracted_at"] > max(d["extracted_at"] for d in before.values())
        else:  # an unchanged file's document is the first crawl's, not read again
            assert doc["carried_from"] == first, path
            assert doc["metadata"] == before[path]["metadata"]
            assert doc["extracted_at"] == before[path]["extracted_at"]
            assert doc["family_id"] != before[path]["family_id"]
            assert doc["crawl_id"] == second
    assert docs[f"{tree}/a/t0.txt"]["metadata"] != before[f"{tree}/a/t0.txt"]["metadata"]
    assert docs[f"{tree}/a/t3.txt"]["metadata"] != before[f"{tree}/a/t3.txt"]["metadata"]
    # a renamed file is added, but its content was read before: the owner's content
    # cache answers, and the file is not read by the extractor again
    renamed = docs[f"{tree}/b/renamed.csv"]["extractors"]["tabular"]
    assert renamed["reused"] == 1
    assert docs[f"{tree}/b/new.csv"]["extractors"]["tabular"]["reused"] == 0

    # the since= crawl's metadata index carries the unchanged files' rows forward
    deadline = time.monotonic() + 60
    while xtr.index_status(second)["pending"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    con = xtr.to_duckdb(second)
    indexed = dict(con.execute("SELECT path, family_id FROM files").fetchall())
    assert set(indexed) == set(docs)
    assert all(indexed[p] == d["family_id"] for p, d in docs.items())


def test_small_unchanged_files_are_vouched_for_by_their_content_id(
    data_root: Path, tmp_path: Path, tree: Path
) -> None:
    """With XTRACT_SINCE_CONTENT_BYTES, an unchanged family with a small file is not
    carried on its listing alone: its bytes are identified again, and the owner's
    content cache (keyed by the content id) answers for the same bytes."""
    env = {**roots_env(data_root), "XTRACT_SINCE_CONTENT_BYTES": "100"}
    with Service(tmp_path / "home", env=env) as svc:
        xtr = svc.client()
        xep = XtractEndpoint("local", dirs=[str(tree)])
        (first,) = xtr.crawl_and_wait(xep, progress=False)
        xtr.xtract_and_wait(first, progress=False, timeout=120)
        (second,) = xtr.crawl_and_wait(xep, progress=False, since=first)
        (x2,) = xtr.xtract_and_wait(second, progress=False, timeout=120)
        docs = doc_per_file(all_documents(xtr, second))
    small = {str(p) for p in tree.rglob("*") if p.is_file() and p.stat().st_size <= 100}
    assert small and len(small) < len(docs)  # some files each way
    assert x2["families_carried"] == len(docs) - len(small)
    for path, doc in docs.items():
        if path in small:
            assert "carried_from" not in doc, path
            # identified again (that is what gives the content id), then answered
            used = {n: s for n, s in doc["extractors"].items() if n != "filetype"}
            assert used and all(s["reused"] == s["files"] for s in used.values()), used
        else:
            assert doc["carried_from"] == first, path


def test_a_recrawl_of_an_unchanged_tree_finds_everything_unchanged(
    service: Service, tree: Path
) -> None:
    xtr = service.client()
    xep = XtractEndpoint("local", dirs=[str(tree)])
    ((first, s1),) = xtr.crawl_and_wait(xep, progress=False).items()
    ((second, s2),) = xtr.crawl_and_wait(xep, progress=False, since=first).items()
    ch = s2["data"]["changes"]
    assert (ch["added"], ch["changed"], ch["removed"]) == (0, 0, 0)
    assert ch["unchanged"] == s1["data"]["files_crawled"]
    assert xtr.get_changes(second, "removed") == []


def test_since_refuses_other_roots_another_owner_and_unfinished_crawls(
    service: Service, tree: Path, data_root: Path
) -> None:
    xtr = service.client()
    ((first, _),) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree / "a")]), progress=False
    ).items()
    with pytest.raises(BadRequestError, match="same roots"):
        xtr.crawl(XtractEndpoint("local", dirs=[str(tree)]), since=first)
    with pytest.raises(BadRequestError, match="not a crawl id"):
        xtr.crawl(XtractEndpoint("local", dirs=[str(tree)]), since="yesterday")
    with pytest.raises(NotFoundError):
        xtr.crawl(XtractEndpoint("local", dirs=[str(tree / "a")]), since=str(uuid.uuid4()))
    with pytest.raises(BadRequestError, match="not started with since"):
        xtr.get_changes(first)
    other = service.client(token=issue(service, "someone-else", data_root))
    with pytest.raises(NotFoundError):
        other.crawl(XtractEndpoint("local", dirs=[str(tree / "a")]), since=first)


def test_the_cli_crawls_since_and_says_what_changed(service: Service, tree: Path) -> None:
    env = {**service.full_env(), "XTRACT_URL": service.url}
    cli = [sys.executable, "-m", "xtract_service.cli"]
    first = subprocess.run(
        [*cli, "crawl", str(tree), "--wait", "--json"], env=env, capture_output=True, text=True
    )
    cid = json.loads(first.stdout)["crawl_id"]
    (tree / "keep.md").write_text("# changed\n")
    out = subprocess.run(
        [*cli, "crawl", str(tree), "--wait", "--since", cid],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert f"since {cid}: 0 added, 1 changed, 0 removed, 15 unchanged" in out.stdout
    bad = subprocess.run(
        [*cli, "crawl", str(tree / "a"), "--since", cid], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "same roots" in bad.stderr and len(bad.stderr.splitlines()) == 1
