"""The SDK's progress line."""

from __future__ import annotations

import io

from xtract_sdk.progress import Progress, crawl_line, human_bytes


def status(state: str, files: int, nbytes: int, errors: int = 0) -> dict:
    data = {"files_crawled": files, "bytes_crawled": nbytes, "dirs_crawled": 3, "dirs_pending": 1}
    return {"status": state, "data": {**data, "errors": errors}}


def test_crawl_line_sums_all_crawls() -> None:
    line = crawl_line([status("crawling", 1500, 2_000_000), status("complete", 500, 0, 2)], 2.0)
    assert line.startswith("complete/crawling: 2,000 files, 2.0 MB, 6 dirs (2 pending)")
    assert "2 errors" in line and "1,000 files/s" in line


def test_human_bytes() -> None:
    assert human_bytes(999) == "999 B"
    assert human_bytes(1_500_000_000) == "1.5 GB"


def test_progress_in_a_log_writes_whole_lines_and_ends_with_the_last() -> None:
    out = io.StringIO()
    bar = Progress(stream=out)
    bar.update("first")
    bar.update("second")
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "first" and lines[-1] == "second"
    assert "\r" not in out.getvalue()


def test_progress_in_a_terminal_rewrites_one_line() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    bar = Progress(stream=out)
    bar.update("a long first line")
    bar.update("short")
    bar.close()
    assert out.getvalue() == "\ra long first line\rshort            \n"


def test_disabled_progress_prints_nothing() -> None:
    out = io.StringIO()
    bar = Progress(stream=out, enabled=False)
    bar.update("x")
    bar.close()
    assert out.getvalue() == ""
