"""What every authenticator shares: the caller it finds, the refusals it raises, and
the protocol the API depends on.

Two authenticators stand behind :class:`Authenticator`: :class:`~.local.LocalTokens`
(tokens this service issued; the zero-setup default) and :class:`~.globus.GlobusAuth`
(``XTRACT_AUTH=globus``: Globus Auth introspects each bearer token, and dependent tokens
let the service act for the caller at Transfer, Search and Compute).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from xtract_service.errors import ServiceError

LOCAL_OWNER = "local"


@dataclass(frozen=True)
class Caller:
    """Who sent a request. ``owner`` is the name crawls are kept under (a local token's
    owner, or a Globus identity id); ``name`` is what to show people; ``token`` is the
    bearer token itself, kept in memory only to ask for dependent tokens; ``audience``
    is the Globus resource server the token was issued for when it is not Xtract (a
    published client's Transfer or Compute token, accepted on the legacy routes)."""

    owner: str
    name: str = ""
    token: str = field(default="", repr=False)
    audience: str | None = None


class AuthRefused(ServiceError):
    """The token does not let its bearer in: 401 (missing, expired, revoked, malformed,
    issued for someone else) or 403 (valid, but without the Xtract scope)."""

    code = "invalid_token"

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code)
        self.status = status


class AuthUnavailable(ServiceError):
    """Globus Auth could not be asked (unreachable, or refused the service's own
    credentials): a 503, since the caller did nothing wrong."""

    code = "auth_unavailable"


class Authenticator(Protocol):
    def authenticate(self, token: str, accept: frozenset[str] = frozenset()) -> Caller:
        """The caller ``token`` belongs to, or :class:`AuthRefused`. ``accept`` names
        Globus resource servers whose tokens are taken as well (legacy routes)."""
        ...

    def known(self, token: str) -> Caller | None:
        """The caller of ``token`` when it can be told without I/O (the service's local
        token), else None: ask :meth:`authenticate`. Answers on the event loop."""
        ...

    def service_tokens(self, caller: Caller, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Tokens to act for ``caller`` (``Transfer``, ``Search``, ``Compute``, and the
        ``extra`` ones, by name and scope, where they can be had)."""
        ...

    def groups_of(self, caller: Caller) -> set[str]:
        """The Globus groups ``caller`` is an active member of (none for local)."""
        ...

    def roots_for(self, caller: Caller) -> list[str] | None:
        """The roots this caller reaches: its token's, or those granted to its
        identity or groups (None: the defaults)."""
        ...


def strip_bearer(value: str | None) -> str | None:
    """``"Bearer abc"`` or ``"abc"`` -> ``"abc"``; legacy clients send either."""
    if not value:
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None
