"""Extraction counters are exact by construction: families with an extractor error are
counted (``fx.errors``), ``pending`` is zero when COMPLETED, and retry and clear leave
every counter as a fresh run would."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import Service, all_documents
from xtract_sdk import XtractEndpoint


def corpus(root: Path) -> dict[str, bool]:
    """Files, and whether an extractor will report an error on each."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "ok.csv").write_text("a,b\n1,2\n3,4\n")
    (root / "ok.json").write_text(json.dumps({"x": [1, 2, 3]}))
    (root / "notes.txt").write_text("Counting families with extractor errors exactly. " * 20)
    (root / "broken.json").write_text('{"x": [1, 2')
    (root / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (root / "bad.xml").write_text("<a><b></a>")
    return {p.name: p.name in {"broken.json", "truncated.png", "bad.xml"} for p in root.iterdir()}


def fx_of(status: dict) -> tuple[int, int, int, int]:
    fx = status["xtract_counters"]["fx"]
    return fx["success"], fx["failed"], fx["errors"], fx["pending"]


def test_counters_are_exact_through_retry_and_clear(service: Service, tree_dir: Path) -> None:
    files = corpus(tree_dir)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    (first,) = xtr.xtract_and_wait(cid, progress=False, timeout=120)
    docs = all_documents(xtr, cid)
    with_errors = {d["family_id"] for d in docs if d["errors"]}
    assert len(with_errors) == sum(files.values()) > 0
    assert first["xtract_status"] == "COMPLETED"
    assert fx_of(first) == (len(files), 0, len(with_errors), 0)
    unknown, extracted = first["xtract_counters"]["flagged_unknown"], first["files_extracted"]

    again = xtr.retry(cid, errors=True)
    assert again["retried"] == len(with_errors)
    (after,) = xtr.wait_for_xtract(cid, progress=False, timeout=120)
    assert after["xtract_status"] == "COMPLETED"
    assert fx_of(after) == fx_of(first)
    assert after["xtract_counters"]["flagged_unknown"] == unknown
    assert after["files_extracted"] == extracted

    tabular = {
        d["family_id"]
        for d in all_documents(xtr, cid)
        if any("tabular" in md for md in d["metadata"].values())
    }
    cleared = xtr.clear(cid, "tabular")["cleared"]
    assert cleared == len(tabular) > 0
    status = xtr.get_xtract_status(cid)
    assert fx_of(status) == (len(files) - cleared, cleared, len(with_errors), 0)
    assert xtr.retry(cid)["retried"] == cleared
    (final,) = xtr.wait_for_xtract(cid, progress=False, timeout=120)
    assert fx_of(final) == fx_of(first)
    assert final["xtract_counters"]["flagged_unknown"] == unknown
    assert final["files_extracted"] == extracted
