"""Forecasts as a user sees them: in a crawl's and an extraction's status, in their
progress events, and in the progress line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support import Service, make_tree, read_events
from xtract_sdk import XtractEndpoint
from xtract_sdk.progress import crawl_line, xtract_line


def test_crawl_and_extraction_carry_forecasts_in_status_and_events(
    service: Service, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir, 600, fanout=3, depth=3)
    xtr = service.client()
    ((cid, status),) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False
    ).items()
    n = len(tree)
    fc = status["data"]["forecast"]
    assert fc["files"] == {"low": n, "estimate": n, "high": n}
    assert fc["seconds_left"]["high"] == 0
    progress = [
        e for e in read_events(service, cid, "crawl.completed") if e["type"] == "crawl.progress"
    ]
    first = progress[0]["data"]["forecast"]
    assert first["files"]["low"] <= first["files"]["estimate"] <= first["files"]["high"]
    assert first["files"]["low"] >= progress[0]["data"]["files_crawled"]
    assert {"folders", "bytes", "seconds_left", "basis"} <= set(first)

    (x,) = xtr.xtract_and_wait(cid, progress=False, timeout=180)
    assert x["xtract_status"] == "COMPLETED"
    per = x["forecast"]["per_extractor"]
    assert per["filetype"]["files"] == n and per["filetype"]["files_per_second"] > 0
    assert x["forecast"]["seconds_left"]["estimate"] == 0
    xp = [
        e for e in read_events(service, cid, "xtract.completed") if e["type"] == "xtract.progress"
    ]
    assert xp and "forecast" in xp[0]["data"] and "counters" in xp[0]["data"]


def test_the_progress_lines_show_what_is_left_with_its_range() -> None:
    running: dict[str, Any] = {
        "status": "crawling",
        "data": {
            "files_crawled": 100,
            "bytes_crawled": 1000,
            "dirs_crawled": 5,
            "dirs_pending": 9,
            "errors": 0,
            "elapsed_seconds": 1.0,
            "forecast": {
                "files": {"low": 150, "estimate": 400, "high": 2000},
                "seconds_left": {"low": 1, "estimate": 3, "high": 30},
            },
        },
    }
    line = crawl_line([running], 1.0)
    assert line.endswith(", ~400 files (150-2,000), 3s (1s-30s) left"), line
    done = {**running, "data": {**running["data"], "forecast": None}}
    assert "left" not in crawl_line([done], 1.0)
    extracting = {
        "xtract_status": "EXTRACTING",
        "xtract_counters": {"fx": {"success": 5}},
        "files_extracted": 5,
        "forecast": {"seconds_left": {"low": 100, "estimate": 200, "high": 800}},
    }
    assert xtract_line([extracting], 1.0).endswith(", 3min (100s-13min) left")
