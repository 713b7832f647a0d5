"""The local repo on its own: what one listing returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xtract_service.crawl.repos import Listing
from xtract_service.crawl.repos.local import LocalRepo


def test_skip_patterns_match_names_of_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "keep").mkdir()
    (tmp_path / "a.tmp").write_text("x")
    (tmp_path / "a.csv").write_text("x,y")
    out = LocalRepo([str(tmp_path)], skip=[".git", "*.tmp"]).list_dir(str(tmp_path))
    assert [f[0] for f in out.files] == ["a.csv"]
    assert out.subdirs == [(str(tmp_path / "keep"), str(tmp_path / "keep"))]


def test_files_are_listed_with_name_size_and_mtime(tmp_path: Path) -> None:
    p = tmp_path / "Data.TSV"
    p.write_text("a\tb\n")
    (entry,) = LocalRepo([str(tmp_path)]).list_dir(str(tmp_path)).files
    assert entry == ["Data.TSV", 4, p.stat().st_mtime]


def test_missing_folder_becomes_an_error_record(tmp_path: Path) -> None:
    out = LocalRepo([str(tmp_path)]).list_dir(str(tmp_path / "gone"))
    assert out.files == [] and out.subdirs == []
    assert out.errors[0]["path"] == str(tmp_path / "gone")
    assert "FileNotFoundError" in out.errors[0]["error"]


def test_file_that_vanishes_before_its_stat_becomes_an_error_record(tmp_path: Path) -> None:
    # a dangling link followed is what a file deleted between readdir and stat looks like
    (tmp_path / "ghost.csv").symlink_to(tmp_path / "deleted.csv")
    (tmp_path / "real.csv").write_text("x")
    out = LocalRepo([str(tmp_path)], follow_symlinks=True).list_dir(str(tmp_path))
    assert [f[0] for f in out.files] == ["real.csv"]
    assert out.errors[0]["path"] == str(tmp_path / "ghost.csv")


def test_fifos_and_sockets_are_not_data_files(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe")
    assert LocalRepo([str(tmp_path)]).list_dir(str(tmp_path)).files == []


def test_the_compiled_lister_is_built() -> None:
    # setup.py builds it with the machine's C compiler; without one the scandir lister
    # serves alone, which is correct but slower: this says the install got it
    from xtract_service.crawl.repos.local import FAST_LISTER

    assert FAST_LISTER


def _sorted(listing: Listing) -> tuple[list[Any], ...]:
    return (
        sorted(listing.files),
        sorted(listing.subdirs),
        sorted(e["path"] + e["error"] for e in listing.errors),
        [listing.links_skipped, listing.unreadable],
    )


def _both(roots: list[str], folder: str, **kw: Any) -> tuple[Listing, Listing]:
    return (
        LocalRepo(roots, fast=True, **kw).list_dir(folder),
        LocalRepo(roots, fast=False, **kw).list_dir(folder),
    )


def test_both_listers_give_the_same_answer_on_odd_entries(tmp_path: Path) -> None:
    import os

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.csv").write_text("x,y")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "caf\u00e9.txt").write_text("utf-8 name")
    (tmp_path / "skip.tmp").write_text("x")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link").symlink_to(tmp_path / "a.csv")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    raw = os.path.join(os.fsencode(tmp_path), b"bad\xffname.dat")
    with open(raw, "wb") as f:
        f.write(b"12345")
    fast, slow = _both([str(tmp_path)], str(tmp_path))
    assert _sorted(fast) == _sorted(slow)
    stamped = [sorted(zip(x.files, x.stamps, strict=True)) for x in (fast, slow)]
    assert stamped[0] == stamped[1]
    assert len(fast.files) == 5 and fast.links_skipped == 2
    assert any("not valid UTF-8" in e["error"] for e in fast.errors)
    fast, slow = _both([str(tmp_path)], str(tmp_path), skip=["*.tmp", "link", "sub"])
    assert _sorted(fast) == _sorted(slow)
    assert fast.links_skipped == 1 and fast.subdirs == []


def test_both_listers_give_the_same_answer_on_folders_nobody_here_wrote() -> None:
    import os

    folders = [
        d
        for top in ("/usr/share/doc", "/usr/share/zoneinfo", "/usr/lib/python3", "/etc")
        for d, _, _ in list(os.walk(top))[:40]
    ]
    assert len(folders) > 50
    for folder in folders:
        fast, slow = _both([os.path.dirname(folder) or "/"], folder)
        assert _sorted(fast) == _sorted(slow), folder


def test_a_folder_removed_before_its_listing_is_an_error_with_either_lister(
    tmp_path: Path,
) -> None:
    for listing in _both([str(tmp_path)], str(tmp_path / "gone")):
        assert listing.unreadable == 1 and "FileNotFoundError" in listing.errors[0]["error"]
