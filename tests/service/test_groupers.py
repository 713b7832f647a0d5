"""Groupers turn one folder's files into families."""

from __future__ import annotations

from typing import Any

import pytest

from xtract_service.crawl.groupers import GROUPERS, grouper
from xtract_service.crawl.spec import CrawlSpec


def records(*names: str) -> list[dict[str, Any]]:
    return [
        {"path": f"/d/{n}", "size": 1, "extension": n.rsplit(".", 1)[-1], "mtime": 0.0}
        for n in names
    ]


def test_file_is_group_makes_one_family_per_file_with_its_extractor() -> None:
    fams = GROUPERS["file_is_group"]("/d", records("a.csv", "b.nc", "c.weird"))
    assert [f["files"][0]["path"] for f in fams] == ["/d/a.csv", "/d/b.nc", "/d/c.weird"]
    assert [f["groups"][0]["extractor"] for f in fams] == ["tabular", "netcdf", None]
    assert [f["groups"][0]["kind"] for f in fams] == ["tabular", "hierarchical", "unknown"]
    assert len({f["family_id"] for f in fams}) == 3


def test_directory_makes_one_family_for_the_folder() -> None:
    (fam,) = GROUPERS["directory"]("/d", records("a.csv", "b.png"))
    assert len(fam["files"]) == 2
    assert [g["files"] for g in fam["groups"]] == [["/d/a.csv"], ["/d/b.png"]]
    assert GROUPERS["directory"]("/d", []) == []


def test_extension_makes_one_family_per_kind() -> None:
    fams = GROUPERS["extension"]("/d", records("a.csv", "b.tsv", "c.png", "d.h5", "e.nc"))
    kinds = sorted(sorted(g["kind"] for g in f["groups"])[0] for f in fams)
    assert kinds == ["hierarchical", "image", "tabular"]
    hier = next(f for f in fams if f["groups"][0]["kind"] == "hierarchical")
    assert sorted(g["extractor"] for g in hier["groups"]) == ["hdf5", "netcdf"]


def test_a_new_grouper_is_one_decorated_function() -> None:
    @grouper("pairs_for_test")
    def pairs(directory: str, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"family_id": "x", "files": files[i : i + 2], "groups": []}
            for i in range(0, len(files), 2)
        ]

    try:
        assert CrawlSpec(dirs=["/d"], grouper="pairs_for_test").grouper == "pairs_for_test"
        assert len(GROUPERS["pairs_for_test"]("/d", records("a", "b", "c"))) == 2
    finally:
        GROUPERS.pop("pairs_for_test")
    with pytest.raises(ValueError, match="unknown grouper"):
        CrawlSpec(dirs=["/d"], grouper="pairs_for_test")
