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


def recount(docs: list[dict]) -> dict:
    """What the counters must say, counted again from the current documents."""
    per: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for d in docs:
        for name, s in d["extractors"].items():
            read = int(s.get("files", 0)) - int(s.get("reused", 0))
            if read > 0 and not d.get("carried_from"):
                per[name] = per.get(name, 0) + read
        for e in d["errors"]:
            kinds[str(e.get("error") or "error")] = kinds.get(str(e.get("error") or "error"), 0) + 1
    return {
        "families": len(docs),
        "errors": sum(1 for d in docs if d["errors"]),
        "files": sum(len(d["files"]) for d in docs),
        "unknown": sum(len(d["unknown"]) for d in docs),
        "carried": sum(1 for d in docs if d.get("carried_from")),
        "kinds": kinds,
        "per_extractor": per,
    }


def said(status: dict) -> dict:
    fx = status["xtract_counters"]["fx"]
    per = (status["forecast"] or {}).get("per_extractor") or {}
    return {
        "families": fx["success"] + fx["failed"],
        "errors": fx["errors"],
        "files": status["files_extracted"],
        "unknown": status["xtract_counters"]["flagged_unknown"],
        "carried": status["families_carried"],
        "kinds": status["errors_by_kind"],
        "per_extractor": {k: v["files"] for k, v in per.items() if v["files"]},
    }


def test_counters_match_a_recount_after_random_sequences(service: Service, tree_dir: Path) -> None:
    """Random sequences of retry, clear and since crawls (seeded; XTRACT_COUNTER_STEPS
    sets how many steps), each checked against a recount of the documents."""
    import os
    import random

    rng = random.Random(int(os.environ.get("XTRACT_COUNTER_SEED", "7")))
    steps = int(os.environ.get("XTRACT_COUNTER_STEPS", "6"))
    corpus(tree_dir)
    xtr = service.client()
    ((cid, _),) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False
    ).items()
    xtr.xtract_and_wait(cid, progress=False, timeout=120)
    done = []
    for step in range(steps):
        op = rng.choice(["retry_errors", "clear_one", "clear_all", "since", "retry_nothing"])
        done.append(op)
        if op == "retry_errors":
            xtr.retry(cid, errors=True)
        elif op == "clear_one":
            xtr.clear(cid, rng.choice(["tabular", "json", "keyword", "filetype"]))
            xtr.retry(cid)
        elif op == "clear_all":
            xtr.clear(cid)
            xtr.xtract(cid)
        elif op == "since":
            (tree_dir / f"new{step}.txt").write_text(f"a file added at step {step} " * 10)
            (tree_dir / "notes.txt").write_text(f"changed at step {step} " * 30)
            ((cid, _),) = xtr.crawl_and_wait(
                XtractEndpoint("local", dirs=[str(tree_dir)]), since=cid, progress=False
            ).items()
            xtr.xtract(cid)
        else:
            xtr.retry(cid)
        (status,) = xtr.wait_for_xtract(cid, progress=False, timeout=120)
        assert status["xtract_status"] == "COMPLETED", (done, status)
        assert said(status) == recount(all_documents(xtr, cid)), done
