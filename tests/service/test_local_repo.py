"""The local repo on its own: what one listing returns."""

from __future__ import annotations

from pathlib import Path

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
