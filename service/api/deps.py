"""What routes need, injected with ``Depends``: settings, the store, the caller."""

from __future__ import annotations

from fastapi import Depends, Request

from xtract_service.api.errors import ApiError
from xtract_service.auth import Authenticator, strip_bearer
from xtract_service.crawl.store import CrawlStore
from xtract_service.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> CrawlStore:
    store: CrawlStore = request.app.state.store
    return store


def owner_from_token(request: Request, token: str | None) -> str:
    """The owner a token belongs to, or a 401 that says how to authenticate."""
    auth: Authenticator = request.app.state.auth
    if not token:
        settings = get_settings(request)
        raise ApiError(
            401,
            "missing_token",
            f"send 'Authorization: Bearer <token>'; the local token is in {settings.token_file}",
        )
    owner = auth.owner_for(token)
    if owner is None:
        raise ApiError(401, "invalid_token", "the token is not valid for this service")
    return owner


def get_owner(request: Request) -> str:
    return owner_from_token(request, strip_bearer(request.headers.get("authorization")))


Owner = Depends(get_owner)
Store = Depends(get_store)
AppSettings = Depends(get_settings)
