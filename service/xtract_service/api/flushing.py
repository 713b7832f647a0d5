"""Flushing over HTTP, for the v1 and the published routes alike: leased delivery
(:mod:`xtract_service.crawl.flush`) plus what only the API can see, a caller that hung
up before its answer was written."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from xtract_service.crawl.flush import flush_files, release
from xtract_service.quotas import flush_slot


async def leased_flush(
    request: Request,
    crawls: Any,
    settings: Any,
    crawl_id: str,
    owner: str,
    body: dict[str, Any],
    *,
    capability: bool = False,
) -> dict[str, Any]:
    """Flush, and hand the lease out again at once when the caller went away before
    the answer was written (an abandoned call loses nothing)."""
    n = body.get("first_n_files", body.get("n", 100))

    def flushing() -> dict[str, Any]:
        with flush_slot(crawls.r, owner, settings, capability):
            return flush_files(
                crawls,
                crawl_id,
                owner,
                n,
                settings.max_flush,
                capability=capability,
                consumer=body.get("consumer"),
                ack=body.get("ack"),
                lease_seconds=settings.flush_lease_seconds,
                rendered=True,
            )

    flushed = await run_in_threadpool(flushing)
    if flushed["lease"] and await request.is_disconnected():
        await run_in_threadpool(
            release, crawls.r, crawl_id, flushed["lease"], capability=capability
        )
    return flushed
