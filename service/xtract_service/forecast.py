"""Forecasts: how many files and bytes a running crawl will find, and how long a crawl
or an extraction still needs, each with its uncertainty (``low`` .. ``high`` around the
``estimate``).

**Crawls**, from the frontier's shape. A crawl is breadth-first, so it keeps, per depth
below its roots, how many folders it listed, the sub-folders and files they held and
their bytes (``crawl:{id}:levels``). A level's folders are all known once the level
above is listed; the measured branching (sub-folders per folder) of the deepest listed
levels, and its trend from one level to the next, predict the levels not seen yet:

- ``estimate``: branching goes on changing level by level as it did between the last
  two measured levels, shrinking by at least a fifth a level (trees end: leaves have
  no sub-folders);
- ``low``: no folder deeper than those already found (what is known for certain, with
  the folders found but not listed yet at their level's mean);
- ``high``: branching stays at the deepest measured level's for as many more levels as
  the tree has shown, capped at ``MAX_LEVELS_AHEAD``.

Files in folders not listed yet count at their level's mean, and the range widens by
three standard deviations of that guess (each level's spread of files per folder). On
random trees replayed in ``tests/fast/test_forecast.py`` the range held the true count
at about nine probes in ten. Folders still to list over the crawl's listing rate so far
give the time left. Early in a crawl the range is wide, and it closes as levels
complete; at the end all three agree.

**Extractions**, from measured rates: families still to extract over the families
recorded per second since the run started; the range is the rate's spread over the
per-extractor rates (``seconds`` per file of each extractor so far, in the run's mix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_LEVELS_AHEAD = 8  # the pessimist's tree grows at most this many levels deeper
MAX_DEPTH = 256
SHRINK = 0.8
SIGMAS = 3.0


@dataclass
class Level:
    """One depth of a crawl: folders listed, and what they held."""

    listed: int = 0
    subdirs: int = 0
    files: int = 0
    bytes: int = 0
    squares: int = 0  # the sum of each folder's file count squared (for the spread)

    def spread(self) -> float:
        """The variance of the number of files in one folder of this level (the sample
        variance; with fewer than two folders seen, the mean squared: a wide guess)."""
        mean = self.files / self.listed if self.listed else 0.0
        if self.listed < 2:
            return mean * mean
        sample = (self.squares - self.listed * mean * mean) / (self.listed - 1)
        return max(sample, 0.0)


def levels_of(fields: dict[str, str]) -> dict[int, Level]:
    """The levels hash (``"<depth>:<counter>" -> n``) as :class:`Level` per depth."""
    out: dict[int, Level] = {}
    for key, value in fields.items():
        depth, _, name = key.partition(":")
        if depth.isdigit() and name in ("listed", "subdirs", "files", "bytes", "squares"):
            level = out.setdefault(int(depth), Level())
            setattr(level, name, int(value))
    return out


def _range(low: float, estimate: float, high: float) -> dict[str, float]:
    low, high = min(low, estimate), max(high, estimate)
    return {"low": round(low), "estimate": round(estimate), "high": round(high)}


def _project(levels: dict[int, Level], roots: int, trend: str) -> tuple[float, float, float, float]:
    """(folders, files, bytes, variance of files) the whole tree holds if branching
    follows ``trend`` (``"estimate"``, ``"low"`` or ``"high"``); the variance is that of
    the files in folders not listed yet, each like its level's listed ones."""
    measured = [d for d in sorted(levels) if levels[d].listed]
    ratio = {d: levels[d].subdirs / levels[d].listed for d in measured}
    last = measured[-1]
    # how branching changed between the two deepest measured levels: it shrinks by at
    # least a fifth a level (trees end), else the projection of a growing tree never would
    shrink = SHRINK
    if len(measured) >= 2 and ratio[measured[-2]] > 0:
        shrink = min(SHRINK, ratio[last] / ratio[measured[-2]])

    def branching(d: int) -> float:
        if d in ratio:
            return ratio[d]
        if trend == "low" or (trend == "high" and d - last > MAX_LEVELS_AHEAD):
            return 0.0
        return ratio[last] * (shrink ** (d - last) if trend == "estimate" else 1.0)

    folders = files = nbytes = variance = 0.0
    here = float(roots)  # folders at depth d
    for d in range(MAX_DEPTH):
        lev = levels.get(d, Level())
        here = max(here, float(lev.listed))
        unlisted = here - lev.listed
        ref = levels[d] if d in ratio else levels[last]
        folders += here
        files += lev.files + unlisted * ref.files / ref.listed
        nbytes += lev.bytes + unlisted * ref.bytes / ref.listed
        variance += unlisted * ref.spread()
        # the next depth: the sub-folders found, and those the unlisted folders hold
        found_below = float(lev.subdirs)
        here = found_below + (0.0 if trend == "low" else unlisted * branching(d))
        if here < 0.5:
            break
    return folders, files, nbytes, variance


def crawl_forecast(
    fields: dict[str, str],
    roots: int,
    counts: dict[str, int],
    running_seconds: float,
    finished: bool,
) -> dict[str, Any] | None:
    """The crawl's forecast: ``{files, bytes, folders, seconds_left: {low, estimate,
    high}, basis}``; ``None`` before the first folder is listed."""
    levels = levels_of(fields)
    if finished:
        exact = {
            "files": counts["files"],
            "bytes": counts["bytes"],
            "folders": counts["dirs_done"],
        }
        out: dict[str, Any] = {k: _range(v, v, v) for k, v in exact.items()}
        out["seconds_left"] = _range(0, 0, 0)
        out["basis"] = "the crawl is over: these are its counts"
        return out
    if not levels or not any(lv.listed for lv in levels.values()):
        return None
    low, est, high = (_project(levels, roots, t) for t in ("low", "estimate", "high"))
    listed = sum(lv.listed for lv in levels.values())
    rate = listed / running_seconds if running_seconds > 0 else 0.0

    def seconds(folders: float) -> float:
        return max(folders - listed, 0.0) / rate if rate > 0 else 0.0

    # three standard deviations of the files the unlisted folders may hold (a level's
    # folders are not alike in every tree); bytes are given the same relative margin
    down = 1 - SIGMAS * low[3] ** 0.5 / low[1] if low[1] else 1.0
    up = 1 + SIGMAS * high[3] ** 0.5 / high[1] if high[1] else 1.0
    return {
        "folders": _range(low[0], est[0], high[0]),
        "files": _range(
            max(low[1] * down, counts["files"]), max(est[1], counts["files"]), high[1] * up
        ),
        "bytes": _range(
            max(low[2] * down, counts["bytes"]), max(est[2], counts["bytes"]), high[2] * up
        ),
        "seconds_left": _range(seconds(low[0]), seconds(est[0]), seconds(high[0])),
        "basis": (
            f"{len(levels)} levels seen; branching of the deepest listed level "
            f"projected to the levels below; {rate:,.0f} folders/s so far"
        ),
    }


def extraction_forecast(
    families_left: int,
    families_done: int,
    running_seconds: float,
    rates: dict[str, dict[str, float]],
    finished: bool,
) -> dict[str, Any] | None:
    """An extraction's ``{seconds_left: {low, estimate, high}, families_per_second,
    per_extractor: {name: {files, seconds, files_per_second}}, basis}``; ``None``
    before the first family is recorded."""
    per = {
        name: {
            "files": int(r["files"]),
            "seconds": round(r["seconds"], 3),
            "files_per_second": round(r["files"] / r["seconds"], 2) if r["seconds"] else None,
        }
        for name, r in sorted(rates.items())
    }
    if finished:
        return {
            "seconds_left": _range(0, 0, 0),
            "families_per_second": None,
            "per_extractor": per,
            "basis": "the extraction is over",
        }
    if families_done <= 0 or running_seconds <= 0:
        return None
    rate = families_done / running_seconds
    estimate = families_left / rate
    # the rate so far is a mean over the run's mix of files; families still to come
    # may be slower or faster: the spread of the extractors' own speeds bounds that
    spread = _spread(rates)
    return {
        "seconds_left": _range(estimate / spread, estimate, estimate * spread),
        "families_per_second": round(rate, 2),
        "per_extractor": per,
        "basis": f"{families_done:,} families in {running_seconds:,.1f} s; {families_left:,} to go",
    }


def _spread(rates: dict[str, dict[str, float]]) -> float:
    """How much slower (or faster) the remaining mix may run than the mix so far: the
    square root of the ratio between the slowest and the mean extractor's seconds per
    file, at least 1.25 (a run's own noise) and at most 10."""
    costs = [r["seconds"] / r["files"] for r in rates.values() if r.get("files")]
    if not costs:
        return 2.0
    mean = sum(costs) / len(costs)
    worst = max(costs)
    ratio = worst / mean if mean > 0 else 1.0
    return float(min(10.0, max(1.25, ratio**0.5)))
