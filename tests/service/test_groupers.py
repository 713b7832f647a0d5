"""Groupers turn one folder's files into families, which read back in the
documented ``{family_id, files, groups}`` shape."""

from __future__ import annotations

from typing import Any

import pytest

from xtract_service.crawl.families import Family, expand, make_blocks, normalize
from xtract_service.crawl.groupers import GROUPERS, grouper
from xtract_service.crawl.spec import CrawlSpec


def families(name: str, *files: str, per_entry: int = 1000) -> list[Family]:
    entries = [[f, 10 + i, 1.5] for i, f in enumerate(files)]
    grouped = normalize(GROUPERS[name]("/d", entries), len(entries))
    return [fam for b in make_blocks("/d", entries, grouped, per_entry) for fam in expand(b)]


def test_file_is_group_makes_one_family_per_file_with_its_extractor() -> None:
    fams = families("file_is_group", "a.csv", "b.nc", "c.weird")
    assert [f["files"] for f in fams] == [
        [{"path": "/d/a.csv", "size": 10, "extension": "csv", "mtime": 1.5}],
        [{"path": "/d/b.nc", "size": 11, "extension": "nc", "mtime": 1.5}],
        [{"path": "/d/c.weird", "size": 12, "extension": "weird", "mtime": 1.5}],
    ]
    assert [f["groups"][0]["extractor"] for f in fams] == ["tabular", "netcdf", None]
    assert [f["groups"][0]["kind"] for f in fams] == ["tabular", "hierarchical", "unknown"]
    assert len({f["family_id"] for f in fams}) == 3
    assert len({g["group_id"] for f in fams for g in f["groups"]}) == 3


def test_family_ids_stay_unique_when_a_huge_folder_is_cut_into_blocks() -> None:
    fams = families("file_is_group", *[f"f{i}.txt" for i in range(25)], per_entry=10)
    assert len({f["family_id"] for f in fams}) == 25
    assert [f["files"][0]["path"] for f in fams] == [f"/d/f{i}.txt" for i in range(25)]


def test_directory_makes_one_family_for_the_folder() -> None:
    (fam,) = families("directory", "a.csv", "b.png")
    assert [r["path"] for r in fam["files"]] == ["/d/a.csv", "/d/b.png"]
    assert [g["files"] for g in fam["groups"]] == [["/d/a.csv"], ["/d/b.png"]]
    assert [g["extractor"] for g in fam["groups"]] == ["tabular", "images"]
    assert families("directory") == []


def test_extension_makes_one_family_per_kind() -> None:
    fams = families("extension", "a.csv", "b.tsv", "c.png", "d.h5", "e.nc")
    assert sorted({g["kind"] for g in f["groups"]}.pop() for f in fams) == [
        "hierarchical",
        "image",
        "tabular",
    ]
    hier = next(f for f in fams if f["groups"][0]["kind"] == "hierarchical")
    assert sorted(str(g["extractor"]) for g in hier["groups"]) == ["hdf5", "netcdf"]


def test_a_new_grouper_is_one_decorated_function_and_loses_no_file() -> None:
    @grouper("pairs_for_test")
    def pairs(directory: str, files: list[Any]) -> Any:
        # pairs up files; an odd last file is left out, and file 0 is named twice
        return [[[[i, i + 1], "tabular"], [[0], None]] for i in range(0, len(files) - 1, 2)]

    try:
        assert CrawlSpec(dirs=["/d"], grouper="pairs_for_test").grouper == "pairs_for_test"
        fams = families("pairs_for_test", "a", "b", "c", "d", "e")
        paths = [r["path"] for f in fams for r in f["files"]]
        assert sorted(paths) == ["/d/a", "/d/b", "/d/c", "/d/d", "/d/e"]
        assert len(fams) == 3
    finally:
        GROUPERS.pop("pairs_for_test")
    with pytest.raises(ValueError, match="unknown grouper"):
        CrawlSpec(dirs=["/d"], grouper="pairs_for_test")
