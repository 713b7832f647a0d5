"""``GET /v1/crawls/{id}/events``: the crawl's events as Server-Sent Events.

Each event is sent as ``id: <stream id>``, ``event: <type>``, ``data: {type, at,
crawl_id, data}``. A client that reconnects with ``Last-Event-ID`` (or ``?after=``)
receives everything after that id that the capped stream still holds; without one, the
stream starts from the oldest event kept. A comment line every second of quiet lets
clients and proxies tell a live, idle stream from a dead connection.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from xtract_service.api.deps import Crawls, Owner, Redis
from xtract_service.errors import BadRequest
from xtract_service.events import read_events

router = APIRouter(tags=["events"])
_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")
KEEPALIVE_SECONDS = 1.0


@router.get("/v1/crawls/{crawl_id}/events")
def events(
    crawl_id: str,
    owner: Owner,
    crawls: Crawls,
    r: Redis,
    last_event_id: str | None = Header(None),
    after: str | None = Query(None, description="resume after this event id"),
    types: str | None = Query(None, description="comma-separated event types to send"),
) -> StreamingResponse:
    """The crawl's events, live, as ``text/event-stream``."""
    crawls.get(crawl_id, owner)
    start = after or last_event_id or "0-0"
    found = _ID.match(start)
    if not found or max(int(found[1]), int(found[2])) >= 2**64:
        raise BadRequest(f"{start!r} is not an event id (like 1700000000000-0)", "bad_event_id")
    wanted = set(types.split(",")) if types else None

    def stream() -> Iterator[str]:
        last, quiet_since = start, time.monotonic()
        yield "retry: 2000\n\n"
        while True:
            found = read_events(r, crawl_id, last, block_ms=1000)
            if not found:
                if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            quiet_since = time.monotonic()
            for event in found:
                last = event.id
                kind = event.fields["type"]
                if wanted is not None and kind not in wanted:
                    continue
                body = {
                    "type": kind,
                    "at": float(event.fields["at"]),
                    "crawl_id": crawl_id,
                    "data": json.loads(event.fields["data"]),
                }
                yield f"id: {last}\nevent: {kind}\ndata: {json.dumps(body)}\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
