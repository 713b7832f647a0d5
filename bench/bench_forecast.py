"""The crawl forecast, calibrated and checked on replayed trees: breadth-first crawls of
real folders of this machine (Debian's ``/usr``, ``/usr/share/doc``, ...) and of random
trees are replayed folder by folder, and at every 1% of each crawl the forecast is
compared with the truth. Prints, per tree, how often the range held the true file count
after the first 5% of the work and how often the estimate was within 2x of it after
20%, the worst high/truth; and the calibration table (the truth over the estimate, its
2nd and 98th percentiles at each share of the known folders listed, over every probe
at that share or later), which ``forecast.CALIBRATION`` holds. With ``--plot`` it draws
``docs/forecast-calibration.png``. No timing: the crawl's rate is not what is checked.

Run: ``python bench/bench_forecast.py [--random 30] [--plot]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from pathlib import Path

from common import ROOT, save

sys.path.insert(0, str(ROOT))
from tests.forecast_replay import Tree, probe, random_tree, real_tree
from xtract_service.forecast import ESTIMATING_BELOW

REAL = ["/usr", "/usr/share/doc", "/usr/share", "/usr/lib", "/usr/include", "/etc",
        "/var/lib", "/usr/bin", "/usr/local"]  # fmt: skip
STARTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def trees(n_random: int, seed: int) -> dict[str, Tree]:
    out = {r: real_tree(r) for r in REAL}
    rng = random.Random(seed)
    for i in range(n_random):
        t = random_tree(rng)
        if len(t) > 20:
            out[f"random {seed}-{i}"] = t
    return {k: v for k, v in out.items() if len(v) > 20}


def replay(tree: Tree) -> list[dict[str, float]]:
    """One probe per 1% of the crawl: work share, listed share, truth, the forecast."""
    truth = sum(t[2] for t in tree)
    rows = []
    for pct in range(1, 100):
        upto = round(len(tree) * pct / 100)
        if not 0 < upto < len(tree):
            continue
        fc = probe(tree, upto)
        if fc is None:
            continue
        f = fc["files"]
        rows.append({"work": pct / 100, "share": fc["listed_share"], "truth": truth,
                     "low": f["low"], "estimate": f["estimate"], "high": f["high"],
                     "estimating": fc["estimating"]})  # fmt: skip
    return rows


def table(rows: list[dict[str, float]]) -> list[tuple[float, float, float]]:
    """Per band of the listed share, the 1.5th and 98.5th percentiles of the truth over
    the estimate among the band's probes, made to narrow as the share grows (a band is
    never narrower than any later one)."""
    bands = []
    ends = [*STARTS[1:], 1.01]
    for start, end in zip(STARTS, ends, strict=True):
        ratios = sorted(
            r["truth"] / r["estimate"] for r in rows if start <= r["share"] < end and r["estimate"]
        )
        if ratios:
            low = ratios[int(0.015 * len(ratios))]
            high = ratios[min(len(ratios) - 1, int(0.985 * len(ratios)))]
            bands.append([start, low, high])
    for i in range(len(bands) - 2, -1, -1):  # wider than every later band
        bands[i][1] = min(bands[i][1], bands[i + 1][1])
        bands[i][2] = max(bands[i][2], bands[i + 1][2])
    return [(b[0], round(b[1], 2), round(b[2], 2)) for b in bands]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=30)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--plot", action="store_true")
    args = ap.parse_args()
    per_tree = {}
    every: list[dict[str, float]] = []
    for name, tree in trees(args.random, args.seed).items():
        rows = replay(tree)
        every += rows
        after5 = [r for r in rows if r["work"] > 0.05]
        after20 = [r for r in rows if r["work"] >= 0.2]
        held = sum(r["low"] <= r["truth"] <= r["high"] for r in after5)
        within = sum(r["truth"] / 2 <= r["estimate"] <= 2 * r["truth"] for r in after20)
        worst = max((r["high"] / r["truth"] for r in after5 if r["truth"]), default=0)
        per_tree[name] = {
            "folders": len(tree),
            "files": sum(t[2] for t in tree),
            "held": held,
            "probes_after_5": len(after5),
            "within_2x": within,
            "probes_after_20": len(after20),
            "worst_high_over_truth": worst,
        }
        print(
            f"{name:18} {len(tree):7,} folders  range held {held}/{len(after5)}  "
            f"estimate within 2x {within}/{len(after20)}  worst high/truth {worst:.3g}"
        )
    a5 = [r for r in every if r["work"] > 0.05]
    a20 = [r for r in every if r["work"] >= 0.2]
    held = sum(r["low"] <= r["truth"] <= r["high"] for r in a5)
    within = sum(r["truth"] / 2 <= r["estimate"] <= 2 * r["truth"] for r in a20)
    said = sum(r["estimating"] for r in a5)
    print(f"all: range held {held}/{len(a5)} ({held / len(a5):.1%}), estimate within 2x "
          f"{within}/{len(a20)} ({within / len(a20):.1%}); 'estimating' at {said} probes "
          f"after 5% (listed share below {ESTIMATING_BELOW})")  # fmt: skip
    print("calibration (share from, low, high):", json.dumps(table(every)))
    save("forecast", {"per_tree": per_tree, "held": held, "probes": len(a5),
                      "within_2x": within, "probes_after_20": len(a20),
                      "calibration": table(every)})  # fmt: skip
    if args.plot:
        plot(every, ROOT / "docs" / "forecast-calibration.png")


def plot(rows: list[dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    xs = [r["work"] for r in rows]
    ratio = [r["truth"] / r["estimate"] if r["estimate"] else 1.0 for r in rows]
    a.scatter(xs, ratio, s=3, alpha=0.4, label="truth / estimate")
    for end in ("low", "high"):
        share = [r[end] / r["truth"] if r["truth"] else 1.0 for r in rows]
        a.scatter(xs, share, s=3, alpha=0.3, label=f"{end} / truth")
    a.set_yscale("log")
    a.axhline(1, color="k", lw=0.8)
    a.axvline(0.05, color="grey", ls=":")
    a.set_xlabel("share of the crawl's folders listed")
    a.set_title("files: estimate and range against the truth")
    a.legend(markerscale=4, fontsize=8)
    buckets = [i / 10 for i in range(11)]
    cover = []
    for lo, hi in itertools.pairwise(buckets):
        got = [r for r in rows if lo < r["work"] <= hi]
        cover.append(sum(r["low"] <= r["truth"] <= r["high"] for r in got) / len(got) if got else 0)
    b.bar([x + 0.05 for x in buckets[:-1]], cover, width=0.09)
    b.axhline(0.9, color="r", ls="--", label="9 in 10")
    b.set_ylim(0, 1.02)
    b.set_xlabel("share of the crawl's folders listed")
    b.set_title("how often the range held the truth")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
