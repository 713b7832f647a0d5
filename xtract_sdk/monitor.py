"""Watching a crawl: typed callbacks on the service's live events.

>>> from xtract_sdk import Callback, EventType, MonitorOptions
>>> def on_extracted(event):
...     print(event.data["document"]["family_id"])
>>> callbacks = [Callback(EventType.FAMILY_EXTRACTED, on_extracted)]
>>> with xtr.monitor(crawl_id, callbacks):  # doctest: +SKIP
...     xtr.xtract_and_wait()

The monitor reads ``/v1/crawls/{id}/events`` (Server-Sent Events) on a background thread
and calls each callback whose type matches, in order. A dropped connection is resumed
with ``Last-Event-ID`` (nothing still in the stream is missed), with back-off; after
``inactivity_timeout`` seconds without an event it checks that the crawl still exists. A
callback that raises is skipped over (``on_callback_error="skip"``, the default) or
stops the monitor (``"abort"``); either way its ``on_error`` is told. For a
single-threaded program, :meth:`Monitor.queue` hands every event over a ``queue.Queue``.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
import urllib3

from xtract_sdk._http import path_id
from xtract_sdk.errors import NotFoundError, ServiceUnavailableError, XtractError
from xtract_sdk.status import EventType

if TYPE_CHECKING:
    from xtract_sdk.client import XtractClient


def _lines(response: requests.Response) -> Iterator[str]:
    """Lines of an event stream as soon as they arrive (``iter_lines`` would wait for a
    whole chunk, holding back a small event until the next one comes)."""
    buffer = b""
    while True:
        chunk = response.raw.read1(65536)
        if not chunk:
            return
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            yield line.rstrip(b"\r").decode("utf-8")


@dataclass(frozen=True)
class Event:
    """One event: its stream ``id``, ``type``, time, and decoded ``data``."""

    id: str
    type: str
    crawl_id: str
    at: float
    data: dict[str, Any]


@dataclass
class Callback:
    """Call ``on_event(event)`` for events of ``event_type``; ``on_error(exc, event)``
    when it raises, or when the monitor itself fails (``event`` is then ``None``)."""

    event_type: EventType | str
    on_event: Callable[[Event], Any]
    on_error: Callable[[BaseException, Event | None], Any] | None = None

    def wants(self, event: Event) -> bool:
        kind = (
            EventType(self.event_type).value
            if isinstance(self.event_type, str)
            else self.event_type.value
        )
        return kind == "*" or kind == event.type


@dataclass
class MonitorOptions:
    inactivity_timeout: float = 60.0  # check the crawl still exists after this much quiet
    on_callback_error: str = "skip"  # or "abort"
    reconnect_backoff: float = 0.5  # first wait before reconnecting; doubles, up to 10 s
    give_up_after: float = 60.0  # seconds without a connection before on_error and stop
    types: list[str] = field(default_factory=list)  # ask the server for only these
    # leaving a ``with`` block normally waits (this long at most) until every event the
    # stream held at that moment has reached the callbacks
    drain_timeout: float = 30.0


class Monitor:
    """Delivers a crawl's events to callbacks on its own thread. Not started until
    :meth:`start` (or ``with``)."""

    def __init__(
        self,
        client: XtractClient,
        crawl_id: str,
        callbacks: list[Callback] | None = None,
        options: MonitorOptions | None = None,
    ) -> None:
        self.client = client
        self.crawl_id = crawl_id
        self.callbacks = list(callbacks or [])
        self.options = options or MonitorOptions()
        self.last_event_id: str | None = None
        self.delivered_id: str | None = None  # the last event the callbacks have seen
        self.error: BaseException | None = None
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"xtract-monitor-{crawl_id[:8]}", daemon=True
        )
        self._response: requests.Response | None = None

    # -- control ----------------------------------------------------------------------
    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop delivering events. With ``timeout=0`` this returns at once and the
        thread ends by itself within a second (at the server's next keep-alive)."""
        self._stop.set()
        if timeout <= 0 or threading.current_thread() is self._thread:
            return
        response = self._response
        if response is not None:
            response.close()  # unblocks a read in progress
        if self._thread.is_alive():
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every event the crawl's stream holds now has been delivered to the
        callbacks (the work a ``with`` block waited for has been heard). False if the
        monitor stopped or ``timeout`` seconds passed first."""
        if not self.running:
            return False
        path = f"/v1/crawls/{path_id(self.crawl_id)}/events/newest"
        target = _position(self.client.http.answer("GET", path)["id"])
        deadline = time.monotonic() + timeout
        while _position(self.delivered_id) < target:
            if not self.running or time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def __enter__(self) -> Monitor:
        return self.start()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:  # the block's work is done: hear all of it first
            with contextlib.suppress(XtractError, requests.RequestException):
                self.drain(self.options.drain_timeout)
        self.stop()

    def queue(self, maxsize: int = 0) -> queue.Queue[Event]:
        """Every event also goes into the returned queue, for a program that wants to
        consume events on its own thread."""
        q: queue.Queue[Event] = queue.Queue(maxsize)
        self.callbacks.append(Callback(EventType.ANY, q.put))
        return q

    def drop_connection(self) -> None:
        """Close the current connection (the monitor reconnects and resumes)."""
        response = self._response
        if response is not None:
            response.close()

    # -- the loop ---------------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.options.reconnect_backoff
        disconnected_since: float | None = None
        while not self._stop.is_set():
            try:
                for event in self._events():
                    disconnected_since, backoff = None, self.options.reconnect_backoff
                    if event is None:  # quiet for inactivity_timeout: is the crawl still there?
                        if not self._crawl_exists():
                            return
                        continue
                    if not self._dispatch(event):
                        return
                    self.delivered_id = event.id
            except NotFoundError as exc:
                self._fail(exc)
                return
            except (
                requests.RequestException,
                urllib3.exceptions.HTTPError,
                OSError,
                ServiceUnavailableError,
                AttributeError,
                ValueError,
            ):
                pass  # dropped or refused: reconnect below (AttributeError: closed under us)
            if self._stop.is_set():
                return
            disconnected_since = disconnected_since or time.monotonic()
            if time.monotonic() - disconnected_since > self.options.give_up_after:
                self._fail(
                    ServiceUnavailableError(
                        f"lost the event stream of crawl {self.crawl_id} for more than "
                        f"{self.options.give_up_after:g}s"
                    )
                )
                return
            self.reconnects += 1
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)

    def _events(self) -> Iterator[Event | None]:
        """Events as they come; ``None`` after ``inactivity_timeout`` without one. The
        server sends a comment every quiet second, so a silent socket is a dead one."""
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        params = {"types": ",".join(self.options.types)} if self.options.types else None
        path = f"/v1/crawls/{path_id(self.crawl_id)}/events"
        response = self.client.http.stream(path, headers, params)
        self._response = response
        try:
            if response.status_code == 404:
                raise NotFoundError(f"no crawl {self.crawl_id} to watch", status=404)
            if response.status_code >= 400:
                raise XtractError(
                    f"events: HTTP {response.status_code}", status=response.status_code
                )
            fields: dict[str, str] = {}
            last_event = time.monotonic()
            for raw in _lines(response):
                if self._stop.is_set():
                    return
                if raw == "":
                    if "data" in fields:
                        last_event = time.monotonic()
                        yield self._event(fields)
                    elif "id" in fields:  # an event the server passed over (``types``)
                        self.last_event_id = self.delivered_id = fields["id"]
                    fields = {}
                elif raw.startswith(":"):
                    if time.monotonic() - last_event > self.options.inactivity_timeout:
                        last_event = time.monotonic()
                        yield None
                else:
                    name, _, value = raw.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        finally:
            self._response = None
            response.close()

    def _event(self, fields: dict[str, str]) -> Event:
        body = json.loads(fields["data"])
        self.last_event_id = fields.get("id", self.last_event_id)
        return Event(
            id=fields.get("id", ""),
            type=body["type"],
            crawl_id=body["crawl_id"],
            at=float(body["at"]),
            data=body.get("data", {}),
        )

    def _dispatch(self, event: Event) -> bool:
        for cb in self.callbacks:
            if not cb.wants(event):
                continue
            try:
                cb.on_event(event)
            except Exception as exc:
                if cb.on_error is not None:
                    with contextlib.suppress(Exception):
                        cb.on_error(exc, event)
                if self.options.on_callback_error == "abort":
                    self.error = exc
                    self._stop.set()
                    return False
        return True

    def _crawl_exists(self) -> bool:
        try:
            self.client.get_crawl_status(self.crawl_id)
            return True
        except NotFoundError as exc:
            self._fail(exc)
            return False
        except XtractError:
            return True  # the service is away; reconnecting will tell

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        self._stop.set()
        for cb in self.callbacks:
            if cb.on_error is not None:
                with contextlib.suppress(Exception):
                    cb.on_error(exc, None)


def _position(event_id: str | None) -> tuple[int, int]:
    """A stream id (``ms-seq``) as a pair that orders as the stream does."""
    if not event_id:
        return (0, 0)
    ms, _, seq = event_id.partition("-")
    return (int(ms), int(seq or 0))
