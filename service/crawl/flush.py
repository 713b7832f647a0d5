"""Flushing: handing the files a crawl found to the caller, each exactly once.

Flushing keeps its own cursor over the families stream (``entry id`` + files already
taken from that entry), advanced under WATCH so two concurrent flushes never return the
same file. It reads the stream without a consumer group, so it takes nothing away from
an extraction, which reads the same stream through its own group.
"""

from __future__ import annotations

from typing import Any

import redis

from xtract_service.crawl import keys
from xtract_service.crawl.families import files_of
from xtract_service.crawl.store import TERMINAL

_SCAN = 64  # stream entries read per round trip


def _parse_cursor(raw: bytes | None) -> tuple[str, int]:
    if not raw:
        return "0-0", 0
    entry, taken = raw.decode().split()
    return entry, int(taken)


def flush(r: redis.Redis, crawl_id: str, first_n_files: int) -> dict[str, Any]:
    """Return up to ``first_n_files`` files not flushed before, in discovery order."""
    cursor_key, stream = keys.flush_cursor(crawl_id), keys.families(crawl_id)
    while True:
        with r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(cursor_key)
                entry, taken = _parse_cursor(pipe.get(cursor_key))
                # read before the stream: a crawl seen finished has all its families written
                status = (pipe.hget(keys.crawl(crawl_id), "status") or b"").decode()
                file_ls: list[dict[str, Any]] = []
                start, exhausted = entry, False
                while len(file_ls) < first_n_files:
                    batch = pipe.xrange(stream, min=start, count=_SCAN)
                    if not batch:
                        exhausted = True
                        break
                    for eid_raw, fields in batch:
                        eid = eid_raw.decode()
                        # retry entries repeat families for extraction, not new files
                        files = files_of(fields[b"families"]) if b"families" in fields else []
                        skip = taken if eid == entry else 0
                        want = first_n_files - len(file_ls)
                        piece = files[skip : skip + want]
                        file_ls += piece
                        entry, taken = eid, skip + len(piece)
                        if len(file_ls) >= first_n_files:
                            break
                    if len(file_ls) < first_n_files:
                        if len(batch) < _SCAN:
                            exhausted = True
                            break
                        start = "(" + entry
                exhausted = exhausted or not _more_after(pipe, stream, entry, taken)
                pipe.multi()
                pipe.set(cursor_key, f"{entry} {taken}")
                pipe.execute()
            except redis.WatchError:
                continue
        return {
            "crawl_id": crawl_id,
            "file_ls": file_ls,
            "num_files": len(file_ls),
            "queue_empty": exhausted and status in TERMINAL,
        }


def _more_after(r: redis.client.Pipeline, stream: str, entry: str, taken: int) -> bool:
    """Whether any file is left after the cursor (in this entry or a later one)."""
    current = r.xrange(stream, min=entry, max=entry, count=1) if entry != "0-0" else []
    if current and int(current[0][1][b"n"]) > taken:
        return True
    return bool(r.xrange(stream, min="(" + entry, count=1))
