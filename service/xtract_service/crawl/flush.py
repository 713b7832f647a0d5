"""Flushing: handing the files a crawl found to the caller, each exactly once.

Flushing keeps its own :class:`~xtract_service.streams.Cursor` over the families
stream, advanced under WATCH so two concurrent flushes never return the same file. It
reads the stream without a consumer group, so it takes nothing away from an extraction,
which reads the same stream through its own group.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

import redis

from xtract_sdk.status import CrawlStatus
from xtract_service import crawl_record, keys
from xtract_service.crawl.families import FileRecord, files_of
from xtract_service.crawl.store import CrawlStore
from xtract_service.errors import BadRequest
from xtract_service.redis_client import Fields, maybe_text, xrange
from xtract_service.streams import Cursor, walk

_SCAN = 64  # stream entries read per round trip


def _files(fields: Fields) -> list[FileRecord]:
    # retry entries repeat families for extraction, not new files
    return files_of(fields["families"]) if "families" in fields else []


def _more_after(r: Any, stream: str, cursor: Cursor) -> bool:
    """Whether any file is left after ``cursor``, from the entries' file counts (``n``)
    alone: the families are not decoded to find out."""
    low = cursor.entry
    while batch := xrange(r, stream, low, count=_SCAN):
        for entry in batch:
            files = int(entry.fields.get("n", 0)) if "families" in entry.fields else 0
            if files > (cursor.taken if entry.id == cursor.entry else 0):
                return True
        low = "(" + batch[-1].id
    return False


def flush_files(
    store: CrawlStore,
    crawl_id: str,
    owner: str,
    n: Any,
    max_flush: int,
    *,
    capability: bool = False,
) -> dict[str, Any]:
    """:func:`flush` for a caller: the crawl must be theirs and ``n`` a whole number
    from 1 to ``max_flush``. A call that holds only the crawl id (``capability``: a
    published client sending no credential) reads with a cursor of its own: it never
    consumes what the owner's authenticated flushes are owed."""
    store.get(crawl_id, owner)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= max_flush:
        raise BadRequest(
            f"first_n_files must be an integer from 1 to {max_flush}, not {n!r}",
            "bad_first_n_files",
        )
    cursor = keys.capability_flush_cursor if capability else keys.flush_cursor
    return flush(store.r, crawl_id, n, cursor(crawl_id))


def flush(
    r: redis.Redis, crawl_id: str, first_n_files: int, cursor_key: str | None = None
) -> dict[str, Any]:
    """Return up to ``first_n_files`` files not flushed before (by this cursor, the
    owner's by default), in discovery order."""
    cursor_key = cursor_key or keys.flush_cursor(crawl_id)
    stream = keys.families(crawl_id)
    while True:
        with r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(cursor_key)  # type: ignore[no-untyped-call]
                cursor = Cursor.parse(maybe_text(pipe.get(cursor_key)))
                # read before the stream: a crawl seen finished has all its families written
                status = crawl_record.status(pipe, crawl_id)
                found = walk(pipe, stream, cursor, _files, scan=_SCAN)
                taken = list(islice(found, first_n_files))
                file_ls = [record for _, record in taken]
                cursor = taken[-1][0] if taken else cursor
                exhausted = not _more_after(pipe, stream, cursor)
                pipe.multi()
                pipe.set(cursor_key, str(cursor))
                pipe.execute()
            except redis.WatchError:
                continue
        return {
            "crawl_id": crawl_id,
            "file_ls": file_ls,
            "num_files": len(file_ls),
            "queue_empty": exhausted and status in CrawlStatus.terminal(),
        }
