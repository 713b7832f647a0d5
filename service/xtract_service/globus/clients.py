"""Every Globus client the service builds, each with one retry policy and, when it acts
for an owner, that owner's rate bucket on every request it sends.

globus-sdk retries 429s (after their ``Retry-After``) and server errors (5xx) with
exponential back-off, up to ``XTRACT_GLOBUS_MAX_RETRIES`` times, never sleeping more than
``XTRACT_GLOBUS_MAX_SLEEP`` at once. Calls a caller waits on (Auth introspection,
dependent tokens, Groups) get one quick retry and ``XTRACT_GLOBUS_AUTH_TIMEOUT``.

>>> tc = transfer(token, settings, owner_bucket(r, owner, settings))   # doctest: +SKIP
>>> tc.operation_ls(endpoint_id, path="/~/")                          # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, TypeVar

import globus_sdk
from globus_sdk.transport import RequestsTransport, RetryConfig
from requests.adapters import HTTPAdapter

from xtract_service.globus.ratelimit import PacedAdapter, RateLimiter
from xtract_service.settings import Settings

APP = "xtract"
C = TypeVar("C", bound=globus_sdk.BaseClient)


def retry_config(settings: Settings) -> RetryConfig:
    """The one retry policy of every call made for an owner."""
    return RetryConfig(max_retries=settings.globus_max_retries, max_sleep=settings.globus_max_sleep)


def _quick(settings: Settings) -> dict[str, Any]:
    """Callers wait on these calls: one quick retry, and a bounded wait."""
    return {
        "transport": RequestsTransport(http_timeout=settings.globus_auth_timeout),
        "retry_config": RetryConfig(max_retries=1, max_sleep=0.5),
    }


def _for_owner(
    cls: type[C],
    token: str | None,
    settings: Settings,
    limiter: RateLimiter | None,
    connections: int = 10,
) -> C:
    authorizer = globus_sdk.AccessTokenAuthorizer(token) if token else None
    client = cls(authorizer=authorizer, app_name=APP, retry_config=retry_config(settings))
    # one kept-alive connection per request in flight (requests keeps 10 by default:
    # beyond that, each request opened a new connection and threw it away)
    pool = (
        PacedAdapter(limiter, connections)
        if limiter is not None
        else HTTPAdapter(pool_connections=4, pool_maxsize=max(10, connections))
    )
    for scheme in ("https://", "http://"):
        client.transport.session.mount(scheme, pool)
    return client


def transfer(
    token: str | None,
    settings: Settings,
    limiter: RateLimiter | None = None,
    connections: int = 10,
) -> globus_sdk.TransferClient:
    """A Transfer client acting with ``token``, within ``limiter``."""
    return _for_owner(globus_sdk.TransferClient, token, settings, limiter, connections)


def search(
    token: str | None, settings: Settings, limiter: RateLimiter | None = None
) -> globus_sdk.SearchClient:
    """A Search client acting with ``token``, within ``limiter``."""
    return _for_owner(globus_sdk.SearchClient, token, settings, limiter)


def compute(
    token: str | None, settings: Settings, limiter: RateLimiter | None = None
) -> tuple[globus_sdk.ComputeClientV2, globus_sdk.ComputeClientV3]:
    """Compute's v2 (endpoint status, task batches) and v3 (functions, submissions)
    clients, sharing one bucket."""
    return (
        _for_owner(globus_sdk.ComputeClientV2, token, settings, limiter),
        _for_owner(globus_sdk.ComputeClientV3, token, settings, limiter),
    )


def groups(token: str, settings: Settings) -> globus_sdk.GroupsClient:
    """A Groups client with a caller's dependent token (a caller waits on it)."""
    return globus_sdk.GroupsClient(
        authorizer=globus_sdk.AccessTokenAuthorizer(token),
        app_name="xtract-service",
        **_quick(settings),
    )


def auth_app(settings: Settings) -> globus_sdk.ConfidentialAppAuthClient:
    """The service's own confidential client (introspection, dependent tokens)."""
    return globus_sdk.ConfidentialAppAuthClient(
        client_id=str(settings.globus_client_id),
        client_secret=settings.client_secret() or "",
        app_name="xtract-service",
        **_quick(settings),
    )


def refusal(exc: globus_sdk.GlobusAPIError) -> str:
    """How a Globus refusal reads in a message: ``403 Code: what it said``."""
    return f"{exc.http_status} {exc.code}: {exc.message}"
