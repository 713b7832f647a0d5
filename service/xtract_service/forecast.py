"""Forecasts: how many files and bytes a running crawl will find, and how long a crawl
or an extraction still needs, each with its uncertainty (``low`` .. ``high`` around the
``estimate``).

**Crawls**, from the frontier's shape. A crawl is breadth-first, so it keeps, per depth
below its roots, how many folders it listed, the sub-folders and files they held and
their bytes (``crawl:{id}:levels``). A level's folders are all known once the level
above is listed; the measured branching (sub-folders per folder) of the deepest listed
level (never more than the tree's mean branching so far) predicts the levels not seen
yet, shrinking to ``SHRINK`` of itself a level (trees end: leaves have no
sub-folders). Files and bytes in folders not listed yet count at their level's mean.
That is the ``estimate``.

The range around it is calibrated, not assumed: breadth-first crawls of real trees
(Debian's ``/usr``, ``/usr/share/doc``, ``/usr/lib``, ``/etc``, ``/var/lib``, ...) and
random ones were replayed folder by folder (``bench/bench_forecast.py``), and at each
probe the truth's ratio to the estimate was taken; :data:`CALIBRATION` holds, for each
share of the known folders already listed (what a running crawl can see of its
progress), the 2nd and 98th percentiles of that ratio over all probes from there on.
The range is the estimate times those, never below what was already found, so it is
physically possible and closes as the crawl goes on; the measured result (how often it
held the truth, how often the estimate was within 2x) is in ``docs/BENCHMARKS.md``.
While fewer than :data:`ESTIMATING_BELOW` of the known folders are listed, or no folder
below the roots, the forecast says ``estimating: true`` (the surfaces say
"estimating..."). Folders still to list over the crawl's listing rate so far give the
time left, with the same range.

**Extractions**, from measured rates: families still to extract over the families
recorded per second since the run started; the range is the rate's spread over the
per-extractor rates (``seconds`` per file of each extractor so far, in the run's mix).
Until :data:`FIRST_FAMILIES` families are recorded and :data:`FIRST_SECONDS` have
passed (a run's first batches carry its start-up: workers, imports), it is
``estimating``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 256
# branching below the deepest listed level shrinks to this share a level: measured on
# the replayed trees, 0.8 left 93% of the probes past 20% of a crawl within 2x of the
# truth (its projections of a wide level ran to thousands of times the tree), 0.3 97%
SHRINK = 0.3
ESTIMATING_BELOW = 0.1  # share of the known folders listed before a forecast is given
# (share of known folders listed from, low, high): the truth over the estimate, the
# 2nd and 98th percentiles of all replayed probes at that share or later
# (bench/bench_forecast.py prints this table)
CALIBRATION: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.18, 61.06),
    (0.2, 0.45, 61.06),
    (0.3, 0.58, 61.06),
    (0.4, 0.58, 61.06),
    (0.5, 0.58, 6.21),
    (0.6, 0.58, 4.7),
    (0.7, 0.67, 2.93),
    (0.8, 0.83, 2.93),
    (0.9, 0.83, 1.18),
)
FIRST_FAMILIES = 20
FIRST_SECONDS = 5.0


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


def _project(levels: dict[int, Level], roots: int) -> tuple[float, float, float, float]:
    """(folders, files, bytes, folders known but not listed) the whole tree holds if
    branching below the deepest listed level shrinks by :data:`SHRINK` a level."""
    measured = [d for d in sorted(levels) if levels[d].listed]
    ratio = {d: levels[d].subdirs / levels[d].listed for d in measured}
    last = measured[-1]

    # below the frontier: the deepest level's branching, but never more than the tree's
    # mean so far (one wide level, a locale folder's hundreds, is not the tree's habit)
    overall = sum(levels[d].subdirs for d in measured) / sum(levels[d].listed for d in measured)
    below = min(ratio[last], overall)

    def branching(d: int) -> float:
        return ratio[d] if d in ratio else below * SHRINK ** (d - last)

    folders = files = nbytes = 0.0
    known = 0.0
    here = float(roots)  # folders at depth d
    for d in range(MAX_DEPTH):
        lev = levels.get(d, Level())
        here = max(here, float(lev.listed))
        unlisted = here - lev.listed
        if d <= last + 1:  # folders found (by the level above), not listed yet
            known += unlisted
        ref = levels[d] if d in ratio else levels[last]
        folders += here
        files += lev.files + unlisted * ref.files / ref.listed
        nbytes += lev.bytes + unlisted * ref.bytes / ref.listed
        here = float(lev.subdirs) + unlisted * branching(d)
        if here < 0.5:
            break
    return folders, files, nbytes, known


def calibrated(share: float) -> tuple[float, float]:
    """The (low, high) multipliers of the estimate at this share of the known folders
    listed (:data:`CALIBRATION`)."""
    low, high = CALIBRATION[0][1:]
    for start, lo, hi in CALIBRATION:
        if share >= start:
            low, high = lo, hi
    return low, high


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
    folders, files, nbytes, known = _project(levels, roots)
    listed = sum(lv.listed for lv in levels.values())
    share = listed / (listed + known) if listed + known else 1.0
    low, high = calibrated(share) if known else (1.0, 1.0)  # none left: exact
    rate = listed / running_seconds if running_seconds > 0 else 0.0

    def spread(estimate: float, floor: float) -> dict[str, float]:
        estimate = max(estimate, floor)
        return _range(max(estimate * low, floor), estimate, max(estimate * high, floor))

    out_folders = spread(folders, listed + known)

    def seconds(n: float) -> float:
        return max(n - listed, 0.0) / rate if rate > 0 else 0.0

    # too little seen to say: few of the known folders listed, or none below the roots
    estimating = share < ESTIMATING_BELOW or len([d for d in levels if levels[d].listed]) < 2
    return {
        "folders": out_folders,
        "files": spread(files, counts["files"]),
        "bytes": spread(nbytes, counts["bytes"]),
        "seconds_left": _range(*(seconds(out_folders[k]) for k in ("low", "estimate", "high"))),
        "estimating": estimating,
        "listed_share": round(share, 4),
        "basis": (
            f"{listed:,} of the {listed + known:,.0f} folders known so far listed "
            f"({'too few to say yet' if estimating else 'range calibrated on replayed trees'}); "
            f"{rate:,.0f} folders/s so far"
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
    estimating = families_done < FIRST_FAMILIES or running_seconds < FIRST_SECONDS
    return {
        "seconds_left": _range(estimate / spread, estimate, estimate * spread),
        "families_per_second": round(rate, 2),
        "per_extractor": per,
        "estimating": estimating,
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
