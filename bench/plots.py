"""The figures of docs/BENCHMARKS.md, drawn from ``bench/results/*.json`` into
``docs/img/``: files crawled over time for the large crawl (with the service's memory),
files extracted over time, per-extractor cost per file, and the ratios of every
benchmark to what a user would use instead. A result that is missing is skipped.

Run: ``python bench/plots.py`` (``make bench`` runs it last).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
IMG = ROOT / "docs" / "img"


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def crawl_over_time() -> None:
    data = load("crawl-1000000") or load("crawl-200000")
    if not data:
        return
    samples = [s for s in data["warm"]["samples"] if "files" in s]
    if not samples:
        return
    fig, ax = plt.subplots(figsize=(7, 3.6))
    t = [s["t"] for s in samples]
    ax.plot(t, [s["files"] / 1000 for s in samples], color="tab:blue", label="files crawled")
    ax.set_xlabel("seconds since the crawl request")
    ax.set_ylabel("thousand files crawled", color="tab:blue")
    mem = ax.twinx()
    mem.plot(t, [s["rss_mb"] for s in samples], color="tab:red")
    mem.set_ylabel("service RSS, MB (all processes)", color="tab:red")
    ax.set_title(f"Local crawl of {data['files']:,} files, {data['workers']} crawl workers")
    fig.tight_layout()
    fig.savefig(IMG / "crawl-over-time.png", dpi=110)
    plt.close(fig)


def extraction_over_time() -> None:
    data = load("extract")
    if not data or not data.get("timeline"):
        return
    fig, ax = plt.subplots(figsize=(7, 3.4))
    t, n = zip(*data["timeline"], strict=True)
    ax.plot(t, n)
    ax.set_xlabel("seconds since the crawl request")
    ax.set_ylabel("files extracted")
    ax.set_title(f"Extraction of {data['files']:,} real files, 2 extraction workers")
    fig.tight_layout()
    fig.savefig(IMG / "extract-over-time.png", dpi=110)
    plt.close(fig)


def per_extractor() -> None:
    data = load("extract")
    if not data or not data.get("per_extractor_s"):
        return
    items = sorted(data["per_extractor_s"].items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(items) + 1.2))
    ax.barh([k for k, _ in items], [v * 1000 for _, v in items])
    ax.set_xlabel("milliseconds per file (median run, as the documents record it)")
    ax.set_title("Cost per file of each extractor")
    fig.tight_layout()
    fig.savefig(IMG / "per-extractor.png", dpi=110)
    plt.close(fig)


def ratios() -> None:
    rows: list[tuple[str, float, float]] = []  # (what, ratio, target)
    for name, pick, target in (
        ("crawl-200000", ("warm", "xtract"), 1.0),
        ("crawl-200000", ("cold", "xtract"), 1.5),
        ("crawl-1000000", ("warm", "xtract"), 1.0),
        ("extract", ("table", "2 extraction"), 1.9),
        ("extract", ("table", "1 extraction"), 0.9),
        ("keywords", ("table", "keyword extractor (default"), 5.0),
        ("offload", ("parquet", "xtract writer"), 0.83),
        ("offload", ("jsonl", "xtract writer"), 0.83),
        ("reads", ("table", "xtract flush"), 1.0),
        ("globus-crawl", ("table", "limit raised"), 10.0),
    ):
        data = load(name)
        if not data:
            continue
        section, prefix = pick
        table = data.get(section)
        table = table.get("table") if isinstance(table, dict) else table
        for row in table or []:
            if prefix in row["what"] and not row["what"].startswith("  "):
                where = f" {section}" if section in ("warm", "cold") else ""
                rows.append((f"{name}{where}: {row['what']}", row["ratio"], target))
                break
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(rows) + 1.4))
    labels = [r[0] for r in rows]
    ax.barh(
        labels,
        [r[1] for r in rows],
        color=["tab:green" if r[1] >= r[2] else "tab:orange" for r in rows],
    )
    ax.scatter([r[2] for r in rows], labels, marker="|", s=300, color="black", label="target")
    ax.set_xscale("log")
    ax.set_xlabel("speed against the alternative (above 1: Xtract faster); bar = target")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(IMG / "ratios.png", dpi=110)
    plt.close(fig)


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    for draw in (crawl_over_time, extraction_over_time, per_extractor, ratios):
        draw()
    print("figures in", IMG)


if __name__ == "__main__":
    main()
