"""Paths that cannot escape: a link out of the roots, a folder swapped for a link after
a check, a FIFO, a device, ``..`` and NUL bytes are refused when opened, not before;
links inside the roots are followed only when allowed; written files are 0600 in 0700
folders and complete under their final name."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from xtract_extractors.safepath import (
    Roots,
    UnsafePath,
    check_name,
    opened,
    read_in,
    remove_partials,
    write_file,
    write_files,
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.csv").write_text("a,b\n")
    (tmp_path / "secret").write_text("root:x:0:0")
    (root / "sub" / "shadow").symlink_to(tmp_path / "secret")
    (root / "inside").symlink_to(root / "sub" / "a.csv")
    (root / "up").symlink_to(tmp_path)
    (root / "zero").symlink_to("/dev/zero")
    os.mkfifo(root / "fifo")
    return root


def read(roots: Roots, path: Path) -> str:
    with opened(roots.open_file(str(path))) as fd:
        return os.read(fd, 100).decode()


def test_a_file_inside_the_roots_is_read(tree: Path) -> None:
    assert read(Roots([str(tree)]), tree / "sub" / "a.csv") == "a,b\n"


@pytest.mark.parametrize("follow", [False, True])
@pytest.mark.parametrize("name", ["sub/shadow", "up/secret", "zero", "../secret"])
def test_nothing_outside_the_roots_is_opened(tree: Path, name: str, follow: bool) -> None:
    with pytest.raises(UnsafePath):
        read(Roots([str(tree)], follow_links=follow), tree / name)


def test_a_link_inside_the_roots_is_followed_only_when_allowed(tree: Path) -> None:
    with pytest.raises(UnsafePath, match="is a symbolic link"):
        read(Roots([str(tree)]), tree / "inside")
    assert read(Roots([str(tree)], follow_links=True), tree / "inside") == "a,b\n"


def test_a_fifo_is_refused_at_once_not_read(tree: Path) -> None:
    with pytest.raises(UnsafePath, match="a FIFO"):
        Roots([str(tree)]).open_file(str(tree / "fifo"))  # would block without O_NONBLOCK


def test_a_folder_swapped_for_a_link_after_a_check_is_refused(tree: Path) -> None:
    roots = Roots([str(tree)])
    with opened(roots.open_dir(str(tree / "sub"))):
        pass  # checked: a plain folder
    (tree / "sub").rename(tree / "sub-old")
    (tree / "sub").symlink_to(tree.parent)  # the swap
    with pytest.raises(UnsafePath, match="is a symbolic link"):
        roots.open_dir(str(tree / "sub"))
    with pytest.raises(UnsafePath):
        read(roots, tree / "sub" / "secret")


@pytest.mark.parametrize("bad", ["relative/path", "/x\x00y", "/" + "a" * 5000])
def test_unusable_paths_are_refused(tree: Path, bad: str) -> None:
    with pytest.raises(UnsafePath):
        Roots([str(tree)]).open_file(bad)


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "/etc/x", "x\x00", "n" * 256])
def test_a_folder_name_must_be_one_name(name: str) -> None:
    with pytest.raises(UnsafePath):
        check_name(name)


def test_created_folders_are_private_and_files_complete(tree: Path) -> None:
    roots = Roots([str(tree)])
    with opened(roots.open_dir(str(tree / "out" / "deep"), create=True)) as folder:
        write_file(folder, "doc.json", b"{}")
        assert read_in(folder, "doc.json") == b"{}"
        assert [n for n in os.listdir(folder)] == ["doc.json"]  # no temporary left
    assert stat.S_IMODE(os.stat(tree / "out").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tree / "out" / "deep" / "doc.json").st_mode) == 0o600


def test_many_files_written_together_land_whole_private_and_alone(tree: Path) -> None:
    items = [(f"d{i}.json", b'{"n": %d}' % i) for i in range(50)]
    with opened(Roots([str(tree)]).open_dir(str(tree / "docs"), create=True)) as folder:
        write_files(folder, items)
        write_files(folder, [("d0.json", b"{}")])  # replaced whole
        assert sorted(os.listdir(folder)) == sorted(n for n, _ in items)
        assert read_in(folder, "d0.json") == b"{}"
        assert read_in(folder, "d7.json") == b'{"n": 7}'
        with pytest.raises(UnsafePath):
            write_files(folder, [("fine.json", b"{}"), ("../escape.json", b"{}")])
        assert "fine.json" not in os.listdir(folder)  # a refused batch leaves nothing
        assert not [n for n in os.listdir(folder) if "partial" in n]
    assert stat.S_IMODE(os.stat(tree / "docs" / "d3.json").st_mode) == 0o600
    assert not (tree / "escape.json").exists()


def test_an_output_folder_swapped_for_a_link_is_not_written_through(tree: Path) -> None:
    outside = tree.parent / "elsewhere"
    outside.mkdir()
    (tree / "out").symlink_to(outside)
    with pytest.raises(UnsafePath):
        Roots([str(tree)]).open_dir(str(tree / "out" / "docs"), create=True)
    assert list(outside.iterdir()) == []


def test_temporaries_of_a_killed_writer_are_removed_and_a_live_ones_kept(tree: Path) -> None:
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    (tree / f".doc.json.partial{dead}").write_text("half")
    (tree / f".other.json.partial{os.getpid()}").write_text("being written")
    with opened(Roots([str(tree)]).open_dir(str(tree))) as folder:
        assert remove_partials(folder) == [f".doc.json.partial{dead}"]
    assert (tree / f".other.json.partial{os.getpid()}").exists()


def test_export_folders_are_named_without_colons() -> None:
    from datetime import UTC, datetime

    from xtract_service.offload.engine import folder_name

    assert folder_name(datetime(2026, 11, 22, 3, 37, 59, tzinfo=UTC)) == "2026-11-22-03.37.59"
