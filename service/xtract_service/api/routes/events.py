"""``GET /v1/crawls/{id}/events``: the crawl's events as Server-Sent Events.

Each event is sent as ``id: <stream id>``, ``event: <type>``, ``data: {type, at,
crawl_id, data}``. A client that reconnects with ``Last-Event-ID`` (or ``?after=``)
receives everything after that id that the capped stream still holds; ``?after=now``
starts at the newest event (only what happens from now on); without either, the
stream starts from the oldest event kept. An event left out by ``?types=`` is sent as
its ``id`` alone (no data: nothing is dispatched), so the client's position advances
past it. ``GET /v1/crawls/{id}/events/newest`` names the newest event, so a client can
wait until it has heard everything up to a moment (the SDK's monitor does, on leaving
its ``with`` block). A comment line every second of quiet lets
clients and proxies tell a live, idle stream from a dead connection. Streams are served
on the event loop by :class:`~xtract_service.event_hub.EventHub` (no thread per client).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from xtract_service.api.deps import Crawls, Events, Reader
from xtract_service.errors import BadRequest
from xtract_service.events import newest_event

router = APIRouter(tags=["events"])
_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")
MAX_TYPES = 20


@router.get("/v1/crawls/{crawl_id}/events/newest")
async def newest(crawl_id: str, owner: Reader, crawls: Crawls) -> dict[str, str]:
    """``{crawl_id, id}``: the id of the crawl's newest event (``0-0`` before any)."""
    await run_in_threadpool(crawls.get, crawl_id, owner)
    return {"crawl_id": crawl_id, "id": await run_in_threadpool(newest_event, crawls.r, crawl_id)}


@router.get("/v1/crawls/{crawl_id}/events")
async def events(
    crawl_id: str,
    owner: Reader,
    crawls: Crawls,
    hub: Events,
    last_event_id: str | None = Header(None),
    after: str | None = Query(
        None, description="resume after this event id; `now`: only events from now on"
    ),
    types: str | None = Query(None, max_length=1000, description="event types to send"),
) -> StreamingResponse:
    """The crawl's events, live, as ``text/event-stream``."""
    await run_in_threadpool(crawls.get, crawl_id, owner)
    start = after or last_event_id or "0-0"
    if start == "now":
        start = await run_in_threadpool(newest_event, crawls.r, crawl_id)
    found = _ID.match(start)
    if not found or max(int(found[1]), int(found[2])) >= 2**64:
        raise BadRequest(f"{start!r} is not an event id (like 1700000000000-0)", "bad_event_id")
    wanted = set(types.split(",")[:MAX_TYPES]) if types else None

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        async for event in hub.watch(crawl_id, start):
            if event is None:
                yield ": keep-alive\n\n"
                continue
            kind = event.fields["type"]
            if wanted is not None and kind not in wanted:
                yield f"id: {event.id}\n\n"  # passed over: the client's position moves on
                continue
            body = {
                "type": kind,
                "at": float(event.fields["at"]),
                "crawl_id": crawl_id,
                "data": json.loads(event.fields["data"]),
            }
            yield f"id: {event.id}\nevent: {kind}\ndata: {json.dumps(body)}\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
