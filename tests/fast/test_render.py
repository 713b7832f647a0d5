"""What the CLI says about a crawl and an extraction (issue 25, item 5), from statuses
shaped as the service answers them: a cancelled crawl names the folders it did not
read, skipped links are counted, and the extraction speaks of files, families and
documents only, saying what a since crawl carried forward."""

from __future__ import annotations

from typing import Any

from xtract_service.cli.render import status_text, xtract_text


def crawl(status: str, **data: Any) -> dict[str, Any]:
    base = {
        "files_crawled": 48039, "bytes_crawled": 10**9, "dirs_crawled": 3417,
        "families_crawled": 48039, "errors": 0, "error_samples": [], "dirs_pending": 0,
        "links_skipped": 0, "elapsed_seconds": 12.5,
    }  # fmt: skip
    return {"crawl_id": "c1", "status": status, "message": "OK", "data": {**base, **data}}


def test_a_cancelled_crawl_says_what_it_did_not_read() -> None:
    said = status_text(crawl("CANCELLED", dirs_pending=688, links_skipped=3936))
    assert "688 folders not read yet" in said and "every folder was read" not in said
    assert "3,936 symbolic links skipped (not followed)" in said
    assert "every folder was read" in status_text(crawl("COMPLETE"))
    assert "1 folder could not be read" in status_text(crawl("COMPLETE", errors=1))


def test_an_extraction_speaks_of_files_families_and_documents() -> None:
    x = {
        "xtract_status": "COMPLETED", "message": "OK", "executor": "local",
        "local_mdata_path": "/m", "files_extracted": 48039, "families_carried": 4497,
        "xtract_counters": {"flagged_unknown": 2, "fx": {"success": 48039, "failed": 1,
                                                          "errors": 15, "pending": 0}},
    }  # fmt: skip
    said = xtract_text(x)
    assert "documents for 48,039 families (48,039 files)" in said
    assert "4,497 families of them carried forward" in said
    assert "15 families with an extractor error" in said
    assert "1 family could not be extracted" in said
    assert "file group" not in said and "familys" not in said
