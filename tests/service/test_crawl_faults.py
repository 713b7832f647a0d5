"""A crawl finishes and reports what it could not read: unreadable folders, symlink
loops, links out of the crawl, names that are not UTF-8, files that vanish."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Service, flush_all, make_tree, roots_env
from xtract_sdk import XtractEndpoint

# root reads anything; a worker without these capabilities obeys permission bits
NO_DAC = [
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


@pytest.fixture
def plain_worker_service(data_root: Path, tmp_path: Path) -> Iterator[Service]:
    """A service whose one worker has no power to read past file permissions."""
    env = {**roots_env(data_root), "XTRACT_CRAWL_WORKERS": "0"}
    with Service(tmp_path / "home", env=env) as svc:
        prefix = NO_DAC if os.geteuid() == 0 else []
        worker = svc.worker("crawl", *prefix)
        yield svc
        worker.terminate()
        worker.wait(20)


def test_unreadable_folder_is_reported_and_the_crawl_goes_on(
    plain_worker_service: Service, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir / "ok", 200)
    locked = tree_dir / "locked"
    make_tree(locked, 5, depth=0)
    os.chmod(locked, 0)
    try:
        xtr = plain_worker_service.client()
        (cid,) = xtr.crawl_and_wait(
            XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False, timeout=60
        )
        status = xtr.get_crawl_status(cid)
    finally:
        os.chmod(locked, 0o755)
    assert status["status"] == "complete"
    assert status["data"]["errors"] == 1
    (err,) = status["data"]["error_samples"]
    assert err["path"] == str(locked) and "PermissionError" in err["error"]
    assert sorted(f["path"] for f in flush_all(xtr, cid)) == sorted(tree)


def test_symlink_loop_is_not_followed_by_default(service: Service, tree_dir: Path) -> None:
    tree = make_tree(tree_dir, 50, depth=1)
    (tree_dir / "d0" / "loop").symlink_to(tree_dir)
    (tree_dir / "link.csv").symlink_to(tree_dir / "f0.csv")
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False, timeout=60
    )
    data = xtr.get_crawl_status(cid)["data"]
    assert data["files_crawled"] == len(tree)
    assert data["links_skipped"] == 2


def test_symlink_loop_followed_is_listed_once(service: Service, tree_dir: Path) -> None:
    tree = make_tree(tree_dir, 50, depth=1)
    (tree_dir / "d0" / "loop").symlink_to(tree_dir)
    (tree_dir / "d1" / "escape").symlink_to("/etc")
    xtr = service.client()
    xep = XtractEndpoint("local", dirs=[str(tree_dir)], follow_symlinks=True)
    (cid,) = xtr.crawl_and_wait(xep, progress=False, timeout=60)
    status = xtr.get_crawl_status(cid)
    assert status["status"] == "complete"
    assert status["data"]["files_crawled"] == len(tree)
    assert status["data"]["dirs_revisited"] == 1
    errors = status["data"]["error_samples"]
    assert [e["path"] for e in errors] == [str(tree_dir / "d1" / "escape")]
    assert "outside the crawl" in errors[0]["error"]
    assert sorted(f["path"] for f in flush_all(xtr, cid)) == sorted(tree)


def test_name_that_is_not_utf8_is_kept_and_reported(service: Service, tree_dir: Path) -> None:
    raw = os.fsencode(str(tree_dir)) + b"/caf\xe9.csv"
    with open(raw, "wb") as f:
        f.write(b"a,b\n")
    (tree_dir / "fine.csv").write_text("a,b\n")
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False, timeout=60
    )
    status = xtr.get_crawl_status(cid)
    assert status["data"]["files_crawled"] == 2
    assert status["data"]["errors"] == 1
    assert "not valid UTF-8" in status["data"]["error_samples"][0]["error"]
    files = {f["path"]: f for f in flush_all(xtr, cid)}
    bad = files[str(tree_dir) + "/caf\\xe9.csv"]
    import base64

    assert base64.b64decode(bad["path_b64"]) == raw
    assert bad["extension"] == "csv" and bad["size"] == 4
