"""``/ui``: the dashboard, served from files in the package (no CDN, nothing fetched
from elsewhere). The page asks for the same bearer token as the SDK and CLI, or takes
it from ``/ui#token=...`` (a fragment: never sent to the server, dropped from the
address bar at once), and talks to the REST API and the event stream with it."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from xtract_service.errors import NotFound

router = APIRouter(include_in_schema=False)

ASSETS = {"app.js": "text/javascript", "app.css": "text/css"}
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


@router.get("/ui/assets/{name}")
def asset(name: str) -> Response:
    """The page's script and style sheet (these names only)."""
    if name not in ASSETS:
        raise NotFound(f"no dashboard file {name!r}")
    return Response(_asset(name), media_type=ASSETS[name], headers=HEADERS)
