"""``/ui``: the dashboard, served from files in the package (no CDN, nothing fetched
from elsewhere). The page asks for the same bearer token as the SDK and CLI, or takes
it from ``/ui#token=...`` (a fragment: never sent to the server, dropped from the
address bar at once), and talks to the REST API and the event stream with it."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from xtract_extractors import all_extractors
from xtract_sdk.status import CrawlStatus, EventType, OffloadStatus, XtractStatus
from xtract_service.api.deps import Owner
from xtract_service.crawl.groupers import GROUPERS
from xtract_service.errors import NotFound
from xtract_service.extraction.executors import EXECUTORS
from xtract_service.offload.formats import describe_formats

router = APIRouter(include_in_schema=False)
words = APIRouter(tags=["dashboard"])

ASSETS = {"app.js": "text/javascript", "app.css": "text/css", "favicon.svg": "image/svg+xml"}
# the page runs only its own script, loads only its own files, and talks only to us
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _asset(name: str) -> bytes:
    return (resources.files("xtract_service") / "ui" / name).read_bytes()


@router.get("/ui")
def ui_redirect() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=308)


@router.get("/ui/")
def dashboard() -> Response:
    """The dashboard page."""
    return Response(_asset("index.html"), media_type="text/html", headers=HEADERS)


@router.get("/favicon.ico")
def favicon() -> Response:
    """The icon (an SVG; the page names it, this answers clients that ask here)."""
    return Response(_asset("favicon.svg"), media_type=ASSETS["favicon.svg"], headers=HEADERS)


@router.get("/ui/assets/{name}")
def asset(name: str) -> Response:
    """The page's script and style sheet (these names only)."""
    if name not in ASSETS:
        raise NotFound(f"no dashboard file {name!r}")
    return Response(_asset(name), media_type=ASSETS[name], headers=HEADERS)


def _statuses(enum: Any, ok: Any) -> dict[str, Any]:
    """An enum's words in order, the final ones, and the one that means success."""
    final = sorted(s.value for s in enum.terminal())
    return {"all": [s.value for s in enum], "terminal": final, "ok": ok.value}


@words.get("/v1/vocabulary")
def vocabulary(owner: Owner) -> dict[str, Any]:
    """The words the service speaks, for clients that show them (the dashboard): status
    words in order and which of them are final, event types (and those after which a
    status is worth reading again), and the groupers, executors, extractors and export
    formats this service has, plug-ins included."""
    return {
        "crawl_status": {
            **_statuses(CrawlStatus, CrawlStatus.COMPLETE),
            "running": CrawlStatus.CRAWLING.value,
        },
        "xtract_status": _statuses(XtractStatus, XtractStatus.COMPLETED),
        "offload_status": _statuses(OffloadStatus, OffloadStatus.COMPLETED),
        "events": {
            "all": [e.value for e in EventType if e != EventType.ANY],
            "final": sorted(e.value for e in EventType.final()),
            "lifecycle": [e.value for e in EventType if e != EventType.ANY and e.lifecycle],
            "progress": {
                "crawl": EventType.CRAWL_PROGRESS.value,
                "xtract": EventType.XTRACT_PROGRESS.value,
            },
        },
        "groupers": list(GROUPERS),  # registered order: the default first
        "executors": sorted(EXECUTORS),
        "extractors": sorted(e.name for e in all_extractors()),
        "formats": [f["name"] for f in describe_formats()],  # plug-ins' too
    }
