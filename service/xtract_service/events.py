"""Events: every stage publishes typed events (:class:`~xtract_sdk.status.EventType`)
into the crawl's capped event stream, served as Server-Sent Events and read by SDK
monitors. Lifecycle events (STARTED, COMPLETED, FAILED) are also queued on the webhook
outbox when the crawl has webhooks; :mod:`xtract_service.webhooks` delivers them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from xtract_sdk.status import EventType
from xtract_service import keys

EVENTS_KEPT = 100_000  # per crawl; older events fall off the stream
OUTBOX_KEPT = 100_000


def publish_many(
    r: redis.Redis, crawl_id: str, event: EventType, each: list[dict[str, Any]]
) -> None:
    """Many events of one kind that is not a lifecycle event (``family.extracted``, ...)
    in one round trip, in order."""
    assert not event.lifecycle, "lifecycle events go one by one, through publish()"
    pipe = r.pipeline(transaction=False)
    now = time.time()
    for data in each:
        fields: dict[Any, Any] = {
            "type": event.value,
            "at": now,
            "data": json.dumps(data, default=str),
        }
        pipe.xadd(keys.events(crawl_id), fields, maxlen=EVENTS_KEPT, approximate=True)
    pipe.execute()


def newest_event(r: redis.Redis, crawl_id: str) -> str:
    """The id of the crawl's newest event (``0-0`` if it has none): a reader that
    starts after it hears only what happens from now on."""
    newest = r.xrevrange(keys.events(crawl_id), count=1)
    if not newest:
        return "0-0"
    eid = newest[0][0]
    return eid.decode() if isinstance(eid, bytes) else str(eid)


def publish(r: redis.Redis, crawl_id: str, event: EventType, **data: Any) -> None:
    """Add ``event`` to the crawl's event stream, and queue a lifecycle event for the
    crawl's webhooks."""
    notify = event.lifecycle and bool(r.exists(keys.webhooks(crawl_id)))
    queue_event(r, crawl_id, event, notify, **data)


def queue_event(
    r: Any, crawl_id: str, event: EventType, notify: bool, outbox: Any = None, **data: Any
) -> None:
    """:func:`publish`'s writes, on a client or queued on a pipeline (a crawl's start
    event goes into the transaction that creates the crawl, so it comes before anything
    a worker publishes about it); ``notify``: the crawl has webhooks, whose outbox entry
    goes on ``outbox`` (default ``r``; apart from a transaction of the crawl's slot)."""
    now = time.time()
    r.xadd(
        keys.events(crawl_id),
        {"type": event.value, "at": now, "data": json.dumps(data, default=str)},
        maxlen=EVENTS_KEPT,
        approximate=True,
    )
    if not (event.lifecycle and notify):
        return
    kind, _, status = event.value.partition(".")
    body = {
        "event": event.value,
        "kind": kind,
        "status": status.upper(),
        "crawl_id": crawl_id,
        "at": now,
        "data": data,
    }
    (r if outbox is None else outbox).xadd(
        keys.WEBHOOK_OUTBOX,
        {"crawl_id": crawl_id, "body": json.dumps(body, default=str)},
        maxlen=OUTBOX_KEPT,
        approximate=True,
    )
