"""How the CLI shows things as text: crawl and extraction statuses, one file's
extraction, and a crawl's summary by extension."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from xtract_sdk import XtractClient
from xtract_sdk.progress import human_bytes


def status_text(s: dict[str, Any]) -> str:
    d = s["data"]
    lines = [
        f"crawl {s['crawl_id']}: {s['status']} ({s['message']})",
        f"  {d['files_crawled']:,} files, {human_bytes(d['bytes_crawled'])}, "
        f"{d['groups_crawled']:,} groups in {d['families_crawled']:,} families, "
        f"{d['dirs_crawled']:,} dirs, {d['errors']:,} errors, {d['elapsed_seconds']}s",
    ]
    lines += [f"  ! {e['path']}: {e['error']}" for e in d["error_samples"][:5]]
    return "\n".join(lines)


def xtract_text(x: dict[str, Any]) -> str:
    c = x["xtract_counters"]
    return (
        f"extraction: {x['xtract_status']} ({x['message']}) on {x['executor']}: "
        f"{c['fx']['success']:,} families extracted, {c['fx']['failed']:,} failed, "
        f"{c['fx']['pending']:,} pending, {c['flagged_unknown']:,} files unknown; "
        f"documents in {x['local_mdata_path']}"
    )


def extraction_text(doc: dict[str, Any]) -> str:
    lines = [f"{doc['path']}: {doc['mimetype'] or 'type unknown'}"]
    if doc["unknown"]:
        lines.append("  no extractor understands this file (flagged unknown)")
    for name, md in doc["metadata"].items():
        lines.append(f"  [{name}]")
        for key, value in md.items():
            text = json.dumps(value, default=str)
            lines.append(f"    {key}: {text if len(text) <= 100 else text[:97] + '...'}")
    lines += [f"  ! {e['extractor']}: {e['error']}: {e['message']}" for e in doc["errors"]]
    return "\n".join(lines)


def summary(xtr: XtractClient, cid: str) -> str:
    kinds: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    while True:
        out = xtr.flush_crawl_metadata(cid, first_n_files=10_000)
        for f in out["file_ls"]:
            ext = f["extension"] or "(none)"
            kinds[ext] += 1
            sizes[ext] += f["size"]
        if out["queue_empty"] or not out["num_files"]:
            break
    rows = [
        f"  {ext:<12} {n:>9,} files {human_bytes(sizes[ext]):>10}"
        for ext, n in kinds.most_common(15)
    ]
    return "\n".join(["by extension:", *rows]) if rows else "no files"
