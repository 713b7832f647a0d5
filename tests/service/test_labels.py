"""A document's groups say what actually ran on their files (issue 25, item 6): a file
the crawl could not place by its extension (no extension: kind unknown, no extractor)
but that an extractor read is labelled with that extractor, not `extractor: null`."""

from __future__ import annotations

from pathlib import Path

from tests.support import Service, all_documents
from xtract_extractors import registry
from xtract_sdk import XtractEndpoint


def test_groups_are_labelled_with_the_extractors_that_read_them(
    service: Service, tree_dir: Path
) -> None:
    (tree_dir / "NOTES").write_text("Plain words about the beamline alignment, " * 30)
    (tree_dir / "table.csv").write_text("a,b\n1,2\n")
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    xtr.xtract_and_wait(cid, progress=False, timeout=120)
    for doc in all_documents(xtr, cid):
        for group in doc["groups"]:
            ran = sorted(
                {n for p in group["files"] for n in doc["metadata"].get(p, {}) if n != "filetype"}
            )
            assert ran, doc  # each of these files is read by something
            assert group["extractors"] == ran and group["extractor"] in ran, group
            assert group["kind"] in registry.get(group["extractor"]).kinds, group
    (notes,) = [d for d in all_documents(xtr, cid) if d["files"][0]["path"].endswith("NOTES")]
    assert notes["groups"][0]["extractor"] == "keyword"
