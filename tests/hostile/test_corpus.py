"""Sixty-odd hostile files through the whole pipeline: the crawl finds every regular
file once and nothing else, extraction ends with a record (metadata or an error) for
every file, no worker dies for good, nothing outside the corpus is read, and files
swapped after the crawl are refused when they are opened."""

from __future__ import annotations

import os
from pathlib import Path

from tests.hostile.corpus import write_hostile_corpus
from tests.support import Service, all_documents, flush_all
from xtract_sdk import XtractEndpoint


def test_a_hostile_corpus_is_crawled_and_extracted_without_loss(
    service: Service, tree_dir: Path
) -> None:
    root = tree_dir / "corpus"
    expected = write_hostile_corpus(root)
    assert len(expected) >= 60
    workers = set(service.worker_pids())
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(root)]), progress=False)
    status = xtr.get_crawl_status(cid)
    assert status["status"] == "complete"
    records = flush_all(xtr, cid)
    shown = [r["path"] for r in records]
    assert len(shown) == len(set(shown)) == len(expected)
    assert not any("/odd/" in p for p in shown)  # FIFOs, device links, loops: not files

    # swaps after the crawl: a listed file becomes a FIFO, a link out, a folder
    swapped = {
        "fifo": str(root / "junk" / "random.csv"),
        "link": str(root / "junk" / "random.txt"),
        "dir": str(root / "junk" / "random.json"),
    }
    for kind, path in swapped.items():
        os.unlink(path)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "link":
            os.symlink("/etc/passwd", path)
        else:
            os.mkdir(path)

    (result,) = xtr.xtract_and_wait(cid, progress=False, timeout=600)
    assert result["xtract_status"] in ("COMPLETED", "FAILED")
    docs = all_documents(xtr, cid)
    covered: dict[str, list[str]] = {}
    for doc in docs:
        for rec in doc["files"]:
            md = doc["metadata"].get(rec["path"], {})
            errs = [e["error"] for e in doc["errors"] if e["path"] == rec["path"]]
            covered[rec["path"]] = [*md, *errs]
    assert len(covered) == len(expected)
    assert all(covered.values()), [p for p, v in covered.items() if not v]
    for path in swapped.values():
        assert "unsafe_path" in covered[path] or "FileNotFoundError" in covered[path], path
        assert not any(e == "timeout" for e in covered[path])
    text = repr(docs)
    assert "root:x:0:0" not in text  # /etc/passwd was never read
    assert len(service.worker_pids()) == len(workers)  # every crawl worker is (still) there
