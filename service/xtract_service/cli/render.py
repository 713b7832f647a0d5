"""How the CLI shows things as text: crawl and extraction statuses, one file's
extraction, and a crawl's summary by extension."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from xtract_sdk import XtractClient
from xtract_sdk.progress import human_bytes


def _n(count: int, word: str) -> str:
    """``1 family``, ``2 families``, ``3 files``."""
    if count == 1:
        return f"{count:,} {word}"
    plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{count:,} {plural}"


def status_text(s: dict[str, Any]) -> str:
    """A crawl in plain words: what was found, where, how fast, what could not be read."""
    d = s["data"]
    seconds = float(d.get("elapsed_seconds") or 0)
    found = (
        f"  found {_n(d['files_crawled'], 'file')} ({human_bytes(d['bytes_crawled'])}) "
        f"in {_n(d['dirs_crawled'], 'folder')} in {seconds:.1f} s"
    )
    if d["families_crawled"] != d["files_crawled"]:  # a grouper put files together
        found += f", put together in {_n(d['families_crawled'], 'family')}"
    unread = []
    if d["errors"]:
        unread.append(f"{_n(d['errors'], 'folder')} could not be read")
    if d.get("dirs_pending"):  # a cancelled (or running) crawl did not reach these
        unread.append(f"{_n(d['dirs_pending'], 'folder')} not read yet")
    if s["status"] == "CANCELLED" and not d.get("dirs_pending"):
        unread.append("cancelled")
    found += "; " + (", ".join(unread) if unread else "every folder was read")
    if d.get("links_skipped"):
        found += f"; {_n(d['links_skipped'], 'symbolic link')} skipped (not followed)"
    message = "" if s["message"] == "OK" else f" ({s['message']})"
    lines = [f"crawl {s['crawl_id']}: {s['status']}{message}", found]
    if d.get("changes"):
        ch = d["changes"]
        lines.append(
            f"  since {ch['since']}: {ch['added']:,} added, {ch['changed']:,} changed, "
            f"{ch['removed']:,} removed, {ch['unchanged']:,} unchanged"
        )
    lines += [f"  ! {e['path']}: {e['error']}" for e in d["error_samples"][:5]]
    return "\n".join(lines)


def xtract_text(x: dict[str, Any]) -> str:
    """An extraction in plain words."""
    c = x["xtract_counters"]
    fx = c["fx"]
    message = "" if x["message"] == "OK" else f" ({x['message']})"
    # one vocabulary: files are grouped into families; each family gets one document
    parts = [
        f"documents for {_n(fx['success'], 'family')} ({_n(x.get('files_extracted', 0), 'file')})"
    ]
    if x.get("families_carried"):
        parts.append(
            f"{_n(x['families_carried'], 'family')} of them carried forward unchanged "
            "from the since crawl, not read again"
        )
    if fx.get("errors"):
        parts.append(f"{_n(fx['errors'], 'family')} with an extractor error")
    if fx["failed"]:
        parts.append(f"{_n(fx['failed'], 'family')} could not be extracted")
    if fx["pending"]:
        parts.append(f"{_n(fx['pending'], 'family')} still to do")
    if c["flagged_unknown"]:
        parts.append(f"{_n(c['flagged_unknown'], 'file')} no extractor understands")
    queue = x.get("queue")
    if queue:  # not begun: the owner's earlier runs go first
        ahead = ", ".join(queue["waiting_for"])
        message += f" ({_ordinal(queue['place'])} in line, waiting for {ahead})"
    return (
        f"extraction: {x['xtract_status']}{message} on {x['executor']}: "
        + ", ".join(parts)
        + f"; documents in {x['local_mdata_path']}"
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


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


def extraction_summary(xtr: XtractClient, cid: str) -> str:
    """What the extractors read, in plain words: files per extractor, errors by kind."""
    read: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for doc in xtr.metadata(cid, follow=False):
        for md in doc["metadata"].values():
            read.update(name for name in md if name != "filetype")
        failed.update(f"{e['extractor']}: {e['error']}" for e in doc["errors"])
    rows = [f"  {name:<12} {n:>9,} files" for name, n in read.most_common()]
    rows += [f"  ! {kind:<30} {n:>6,} files" for kind, n in failed.most_common(8)]
    return "\n".join(["read by:", *rows]) if rows else "no file had metadata to read"
