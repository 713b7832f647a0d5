"""What routes need, injected as ``Annotated`` dependencies: the settings, Redis, the
stores of each stage, and the caller (the owner a bearer token belongs to)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import redis
from fastapi import Depends, Request

from xtract_service.access import Access, access_for, default_roots
from xtract_service.api.errors import ApiError
from xtract_service.auth import LOCAL_OWNER, Authenticator, Caller, strip_bearer
from xtract_service.crawl.store import CrawlStore
from xtract_service.event_hub import EventHub
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.offload.store import OffloadStore
from xtract_service.settings import Settings

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_redis(request: Request) -> redis.Redis:
    r: redis.Redis = request.app.state.redis
    return r


def get_crawls(request: Request) -> CrawlStore:
    store: CrawlStore = request.app.state.crawls
    return store


def get_runs(request: Request) -> ExtractionRuns:
    runs: ExtractionRuns = request.app.state.runs
    return runs


def get_offloads(request: Request) -> OffloadStore:
    offloads: OffloadStore = request.app.state.offloads
    return offloads


def get_event_hub(request: Request) -> EventHub:
    hub: EventHub = request.app.state.events
    return hub


def get_auth(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


def caller_from_token(
    request: Request, token: str | None, accept: frozenset[str] = frozenset()
) -> Caller:
    """The caller a token belongs to, or a 401 that says how to authenticate (a 503
    when Globus Auth cannot be asked)."""
    if not token:
        settings = get_settings(request)
        how = (
            "log in with `xtract login` (or XtractClient())"
            if settings.auth == "globus"
            else "the service's owner can show it with `xtract token show`"
        )
        raise ApiError(401, "missing_token", f"send 'Authorization: Bearer <token>'; {how}")
    return get_auth(request).authenticate(token, accept)


def get_caller(request: Request) -> Caller:
    return caller_from_token(request, strip_bearer(request.headers.get("authorization")))


def acting_tokens(
    request: Request,
    caller: Caller,
    given: dict[str, str],
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The Globus tokens a run moves with: what the caller passed, else (Globus mode)
    the dependent tokens the service gets for them (``extra``: more, by name and
    scope, got if Globus Auth grants them)."""
    if get_settings(request).auth != "globus":
        return dict(given)
    return {**get_auth(request).service_tokens(caller, extra or {}), **given}


def get_reader(
    request: Request,
    crawl_id: str,
    caller: Annotated[Caller, Depends(get_caller)],
) -> str:
    """The owner to read ``crawl_id`` as: the caller's own crawl, or one shared with
    them or a group of theirs (see :mod:`xtract_service.sharing`); else a 404."""
    from xtract_service.sharing import read_as

    return read_as(get_crawls(request), crawl_id, caller, get_auth(request).groups_of)


def access_of(request: Request, caller: Caller) -> Access:
    """What ``caller`` may reach (see :mod:`xtract_service.access`)."""
    auth: Authenticator = request.app.state.auth
    settings = get_settings(request)
    roots = auth.roots_for(caller)
    if roots is None:
        roots = default_roots(settings, caller.owner, LOCAL_OWNER)
    return access_for(settings, caller.owner, roots)


def get_access(request: Request, caller: Annotated[Caller, Depends(get_caller)]) -> Access:
    return access_of(request, caller)


def _on_the_loop(get: Callable[[Request], T]) -> Callable[[Request], Awaitable[T]]:
    """``get`` as an async dependency. FastAPI runs a plain ``def`` dependency in its
    thread pool, a hop to a thread and back for each one a request needs; these only
    read ``app.state``, so they run on the event loop."""

    async def dependency(request: Request) -> T:
        return get(request)

    dependency.__name__ = get.__name__
    return dependency


async def get_owner(caller: Annotated[Caller, Depends(get_caller)]) -> str:
    return caller.owner


AppSettings = Annotated[Settings, Depends(_on_the_loop(get_settings))]
Redis = Annotated[redis.Redis, Depends(_on_the_loop(get_redis))]
Crawls = Annotated[CrawlStore, Depends(_on_the_loop(get_crawls))]
Runs = Annotated[ExtractionRuns, Depends(_on_the_loop(get_runs))]
Offloads = Annotated[OffloadStore, Depends(_on_the_loop(get_offloads))]
Owner = Annotated[str, Depends(get_owner)]
CallerDep = Annotated[Caller, Depends(get_caller)]  # authenticates: may wait on Redis
Reader = Annotated[str, Depends(get_reader)]
Events = Annotated[EventHub, Depends(_on_the_loop(get_event_hub))]
OwnerAccess = Annotated[Access, Depends(get_access)]
