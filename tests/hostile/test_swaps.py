"""Files swapped after the crawl listed them: a FIFO, a link to a device, a link out of
the crawl. Extraction opens each file beneath the crawl's folders when it reads it, so
each becomes an error record at once (not a hang until the time limit, not a read of
``/dev/zero``, not metadata of a file outside the crawl)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from xtract_extractors.batch import extract_batch


def family(i: int, path: Path) -> dict[str, Any]:
    record = {"path": str(path), "size": 1, "extension": path.suffix[1:], "mtime": 0.0}
    group = {"group_id": f"{i}.0", "files": [str(path)], "kind": "text", "extractor": None}
    return {"family_id": str(i), "files": [record], "groups": [group]}


def test_files_swapped_after_the_crawl_become_error_records_at_once(tmp_path: Path) -> None:
    root = tmp_path / "crawl"
    root.mkdir()
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$hash:19000:0:99999:7:::\nalice:$6$other:19000\n")
    names = ["ok.txt", "fifo.txt", "zero.txt", "shadow.txt", "gone.txt"]
    for n in names:
        (root / n).write_text("plain words for the keyword extractor\n")
    families = [family(i, root / n) for i, n in enumerate(names)]
    # the swaps, after the listing
    for n in names[1:]:
        (root / n).unlink()
    os.mkfifo(root / "fifo.txt")
    (root / "zero.txt").symlink_to("/dev/zero")
    (root / "shadow.txt").symlink_to(secret)

    docs = extract_batch(families, time_limit=20, roots=[str(root)], follow_links=True)

    found = {d["files"][0]["path"].rsplit("/", 1)[1]: d for d in docs}
    assert "keyword" in found["ok.txt"]["metadata"][str(root / "ok.txt")]
    for n in ("fifo.txt", "zero.txt", "shadow.txt"):
        doc = found[n]
        assert doc["metadata"][str(root / n)] == {}, n  # nothing was read
        (error,) = doc["errors"]  # refused when opened: not a "timeout" on the FIFO
        assert error["error"] == "unsafe_path", (n, error)
    assert "FIFO" in found["fifo.txt"]["errors"][0]["message"]
    assert "outside" in found["zero.txt"]["errors"][0]["message"]
    assert "outside" in found["shadow.txt"]["errors"][0]["message"]
    assert found["gone.txt"]["errors"][0]["error"] == "file_missing"
    text = repr(docs)
    assert "alice" not in text and "$6$" not in text


SWAPPED = ["d", "d/x", "d/x/etc"]  # above the root, the root itself, inside it


def swap_for_a_link(base: Path, rel: str, outside: Path) -> None:
    """Move ``base/rel`` away and put a link to the same place in ``outside`` there."""
    here = base / rel
    here.rename(here.with_name(here.name + ".moved"))
    here.symlink_to(outside / rel)


def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """``data/d/x`` (the crawl's root) holding ``etc/shadow``, and a copy of the same tree
    outside whose ``shadow`` holds a secret."""
    data, outside = tmp_path / "data", tmp_path / "outside"
    for top, text in ((data, "decoy words only\n"), (outside, "root:$6$hash:19000\n")):
        (top / "d" / "x" / "etc").mkdir(parents=True)
        (top / "d" / "x" / "etc" / "shadow").write_text(text)
    return data, outside, data / "d" / "x"


@pytest.mark.parametrize("rel", SWAPPED)
def test_a_folder_on_the_way_to_a_file_swapped_for_a_link_is_refused_when_extracting(
    tmp_path: Path, rel: str
) -> None:
    data, outside, root = layout(tmp_path)
    path = root / "etc" / "shadow"
    families = [family(0, path)]
    swap_for_a_link(data, rel, outside)
    (doc,) = extract_batch(families, time_limit=20, roots=[str(root)])
    assert doc["metadata"][str(path)] == {}
    (error,) = doc["errors"]
    assert error["error"] == "unsafe_path" and "symbolic link" in error["message"], error
    assert "$6$" not in repr(doc)


@pytest.mark.parametrize("rel", ["d", "d/x"])  # above the root, the root itself
@pytest.mark.parametrize("fast", [True, False])
def test_a_folder_above_the_root_swapped_for_a_link_is_refused_when_listing(
    tmp_path: Path, rel: str, fast: bool
) -> None:
    from xtract_service.crawl.repos.local import LocalRepo

    data, outside, root = layout(tmp_path)
    swap_for_a_link(data, rel, outside)
    listing = LocalRepo([str(root)], fast=fast).list_dir(str(root))
    assert listing.files == [] and listing.subdirs == [] and listing.unreadable == 1
    assert "symbolic link" in listing.errors[0]["error"]


@pytest.mark.parametrize("how", ["write_files", "write_file"])
def test_a_fifo_where_a_temporary_file_goes_cannot_block_a_write(tmp_path: Path, how: str) -> None:
    """An owner's output folder is theirs to fill with traps: FIFOs under the names a
    document's temporary file could take (the old, predictable one included) never make
    the shared writer wait for a reader."""
    import threading

    from xtract_extractors.safepath import opened, write_file, write_files

    folder = tmp_path / "out"
    folder.mkdir()
    for trap in (f".doc.json.partial{os.getpid()}", "doc.json"):
        os.mkfifo(folder / trap)
    done = threading.Event()

    def write() -> None:
        with opened(os.open(folder, os.O_RDONLY | os.O_DIRECTORY)) as fd:
            if how == "write_files":
                write_files(fd, [("doc.json", b"{}")])
            else:
                write_file(fd, "doc.json", b"{}")
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(10), "the write waited on a FIFO"
    assert (folder / "doc.json").read_bytes() == b"{}"  # the FIFO's name, replaced whole
    assert not [p for p in folder.iterdir() if ".partial" in p.name and p.is_file()]
