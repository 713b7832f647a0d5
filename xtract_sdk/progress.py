"""A progress line for ``*_and_wait`` calls that suits where it runs: rewritten in
place in a terminal, updated in place in a notebook, one line at a time in a log."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = getattr(shell, "get_ipython", lambda: None)()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover - the loop always returns


def _done(statuses: list[dict[str, Any]] | None, key: str) -> int:
    return sum(int(s.get(key, 0) or 0) for s in statuses or [])


def _span(seconds: Mapping[str, float]) -> str:
    def one(x: float) -> str:
        return f"{x:.0f}s" if x < 120 else f"{x / 60:.0f}min" if x < 7200 else f"{x / 3600:.1f}h"

    low, est, high = seconds["low"], seconds["estimate"], seconds["high"]
    return one(est) if low == high else f"{one(est)} ({one(low)}-{one(high)})"


def forecast_text(statuses: list[dict[str, Any]], section: str | None) -> str:
    """``", ~12,000 files (8,000-40,000), 3s left (2s-10s)"``: the service's forecasts,
    summed over the runs that have one (``section``: where a status keeps it, ``None``
    for an extraction's top level); ``""`` when none has one yet or all are over."""
    found: list[dict[str, Any]] = []
    for s in statuses:
        f = (s.get(section) or {}).get("forecast") if section else s.get("forecast")
        if f and f["seconds_left"]["high"] > 0:
            found.append(f)
    if not found:
        return ""
    if any(f.get("estimating") for f in found):  # too little seen yet to say
        return ", estimating..."
    total = {k: sum(f["seconds_left"][k] for f in found) for k in ("low", "estimate", "high")}
    out = ", "
    if all("files" in f for f in found):
        files = {k: sum(f["files"][k] for f in found) for k in ("low", "estimate", "high")}
        out += f"~{files['estimate']:,} files"
        if files["low"] != files["high"]:
            out += f" ({files['low']:,}-{files['high']:,})"
        out += ", "
    return out + f"{_span(total)} left"


def crawl_line(
    statuses: list[dict[str, Any]], elapsed: float, start: list[dict[str, Any]] | None = None
) -> str:
    """One line summing the crawls: state, files, bytes, dirs, rate, errors. The rate is
    over the crawls' own running time (the service's ``elapsed_seconds``), so a crawl
    that finished before the first look still shows how fast it went."""
    data = [s.get("data", {}) for s in statuses]
    files = sum(d.get("files_crawled", 0) for d in data)
    nbytes = sum(d.get("bytes_crawled", 0) for d in data)
    dirs = sum(d.get("dirs_crawled", 0) for d in data)
    pending = sum(d.get("dirs_pending", 0) for d in data)
    errors = sum(d.get("errors", 0) for d in data)
    states = sorted({s.get("status", "?") for s in statuses})
    ran = max((float(d.get("elapsed_seconds") or 0) for d in data), default=0.0) or elapsed
    rate = files / ran if ran > 0 else 0.0
    return (
        f"{'/'.join(states)}: {files:,} files, {human_bytes(nbytes)}, {dirs:,} dirs "
        f"({pending:,} pending), {errors:,} errors, {rate:,.0f} files/s, {elapsed:.1f}s"
        + forecast_text(statuses, "data")
    )


def xtract_line(
    statuses: list[dict[str, Any]], elapsed: float, start: list[dict[str, Any]] | None = None
) -> str:
    """One line summing the extractions: state, families done, with errors, failed,
    pending, rate (of files extracted since ``start``, so a retry's rate is its own)."""
    counters = [s.get("xtract_counters", {}) for s in statuses]
    fx = [c.get("fx", {}) for c in counters]
    ok = sum(f.get("success", 0) for f in fx)
    failed = sum(f.get("failed", 0) for f in fx)
    pending = sum(f.get("pending", 0) for f in fx)
    errors = sum(f.get("errors", 0) for f in fx)
    files = sum(s.get("files_extracted", 0) for s in statuses)
    unknown = sum(c.get("flagged_unknown", 0) for c in counters)
    states = sorted({s.get("xtract_status", "?") for s in statuses})
    new = max(files - _done(start, "files_extracted"), 0)
    rate = new / elapsed if elapsed > 0 else 0.0
    return (
        f"{'/'.join(states)}: {ok:,} families extracted ({errors:,} with errors), "
        f"{failed:,} failed, {pending:,} pending, {files:,} files ({unknown:,} unknown), "
        f"{rate:,.0f} files/s, {elapsed:.1f}s" + forecast_text(statuses, None)
    )


def _html(text: str, fraction: float | None) -> str:
    """The notebook's view: a progress bar (indeterminate while ``fraction`` is
    unknown) and the line beside it."""
    import html

    value = "" if fraction is None else f' value="{min(max(fraction, 0.0), 1.0):.4f}"'
    return (
        f'<div class="xtract-progress"><progress max="1"{value} style="width: 16em"></progress>'
        f" <code>{html.escape(text)}</code></div>"
    )


class Progress:
    """Shows a changing line; ``close()`` leaves the last one on screen."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.started = time.monotonic()
        self._handle: Any = None
        self._last_log = 0.0
        self._width = 0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._notebook = _in_notebook()
        self._text = ""

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, text: str, fraction: float | None = None) -> None:
        """Show ``text`` (and, in a notebook, a bar filled to ``fraction`` of 1)."""
        self._text = text
        if not self.enabled:
            return
        if self._notebook:
            from IPython.display import display  # only present in a notebook

            bundle = {"text/plain": text, "text/html": _html(text, fraction)}
            if self._handle is None:
                self._handle = display(bundle, raw=True, display_id=True)  # type: ignore[no-untyped-call,unused-ignore]
            else:
                self._handle.update(bundle, raw=True)
        elif self._tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)
        elif time.monotonic() - self._last_log >= 10:
            self._last_log = time.monotonic()
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        if not self.enabled or self._notebook:
            return
        if self._tty:
            self.stream.write("\n")
        elif self._text:
            self.stream.write(self._text + "\n")
        self.stream.flush()
