"""What every benchmark shares: alternating runs, medians with min/max, ratios, peak
memory of a process tree, the machine's load before and after each run, dropping the
page cache, and saving results as JSON under ``bench/results/`` (``bench/plots.py``
draws the figures of docs/BENCHMARKS.md from them). Plain Python: no test runner, no
timed assertions."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def load() -> float:
    """The machine's one-minute load average (2 cores: above 1 means a neighbour, or
    the previous run, was still busy)."""
    return round(os.getloadavg()[0], 2)


STARTING_LOAD = load()  # when the bench script imported this
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


@dataclass
class Row:
    """One contender's runs: seconds per run, items per run, peak memory (MB), and the
    machine's one-minute load average before and after each run."""

    name: str
    seconds: list[float] = field(default_factory=list)
    items: int = 0
    peak_mb: float | None = None
    loads: list[tuple[float, float]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def alternate(contenders: dict[str, Callable[[], Any]], runs: int) -> dict[str, Row]:
    """Run each contender ``runs`` times, taking turns (A B C A B C ...), so a drift in
    the machine's speed touches all alike. A contender returns its item count or
    ``(items, peak MB)``."""
    rows = {name: Row(name) for name in contenders}
    for _ in range(runs):
        for name, fn in contenders.items():
            before = load()
            t = time.perf_counter()
            got = fn()
            rows[name].seconds.append(time.perf_counter() - t)
            rows[name].loads.append((before, load()))
            items, peak = got if isinstance(got, tuple) else (got, None)
            rows[name].items = items
            if peak is not None:
                rows[name].peak_mb = max(rows[name].peak_mb or 0.0, peak)
    return rows


def report(title: str, rows: list[Row], baseline: str, unit: str = "files") -> list[dict[str, Any]]:
    """Print a table (median, min, max, items/s, ratio = baseline's median / this
    median, so above 1 is faster than the baseline) and return it as records."""
    base = next(r for r in rows if r.name == baseline).median
    print(f"\n{title}")
    print(
        f"{'what':<40}{'median s':>10}{'min':>9}{'max':>9}{unit + '/s':>12}"
        f"{'vs ' + baseline[:12]:>17}{'peak MB':>9}{'load':>11}"
    )
    out = []
    for r in rows:
        rate = r.items / r.median if r.median else 0.0
        peak = f"{r.peak_mb:.0f}" if r.peak_mb is not None else "-"
        print(
            f"{r.name:<40}{r.median:>10.3f}{min(r.seconds):>9.3f}{max(r.seconds):>9.3f}"
            f"{rate:>12,.0f}{base / r.median:>17.2f}{peak:>9}{_load_span(r.loads):>11}"
        )
        out.append(
            {
                "what": r.name,
                "median_s": r.median,
                "min_s": min(r.seconds),
                "max_s": max(r.seconds),
                "runs": len(r.seconds),
                "items": r.items,
                "per_s": rate,
                "ratio": base / r.median,
                "peak_mb": r.peak_mb,
                "load_before_after": r.loads,
            }
        )
    return out


def _load_span(loads: list[tuple[float, float]]) -> str:
    """The lowest and highest load seen around a row's runs, ``0.4-1.3``."""
    seen = [x for pair in loads for x in pair]
    return f"{min(seen):.1f}-{max(seen):.1f}" if seen else "-"


def save(name: str, data: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` (with the machine it ran on, and its load
    when the script started and now)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": machine(),
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "load_at_start_and_end": [STARTING_LOAD, load()],
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem, 1),
        "python": sys.version.split()[0],
    }


def drop_caches() -> bool:
    """Empty the page, dentry and inode caches (root only); whether it could."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def tree_pids(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Sampler:
    """Samples, every ``interval`` s until stopped, the RSS of a process tree (total,
    and per command, the largest) and anything else ``probe`` returns."""

    def __init__(
        self, pid: int, interval: float = 0.1, probe: Callable[[], dict[str, Any]] | None = None
    ) -> None:
        self.pid, self.interval, self.probe = pid, interval, probe
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.perf_counter()

    def __enter__(self) -> Sampler:
        self.t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = tree_pids(self.pid)
            sample: dict[str, Any] = {
                "t": time.perf_counter() - self.t0,
                "rss_mb": sum(rss_mb(p) for p in pids),
                "largest_mb": max((rss_mb(p) for p in pids), default=0.0),
            }
            if self.probe:
                with contextlib.suppress(Exception):  # a failed probe costs one sample
                    sample.update(self.probe())
            self.samples.append(sample)
            self._stop.wait(self.interval)

    @property
    def peak_mb(self) -> float:
        return max((s["rss_mb"] for s in self.samples), default=0.0)

    @property
    def peak_largest_mb(self) -> float:
        return max((s["largest_mb"] for s in self.samples), default=0.0)


def timed_command(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
