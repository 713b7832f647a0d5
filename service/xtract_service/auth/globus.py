"""Globus Auth for the service (``XTRACT_AUTH=globus``).

Each bearer token is introspected with the service's confidential client
(``ConfidentialAppAuthClient.oauth2_token_introspect``). A token is let in when it is
active, unexpired, issued for this service (its ``aud`` holds our client id) and
carries the Xtract scope; the owner is the identity it was issued to (``sub``).
Answers are cached in this process, keyed by the token's SHA-256, until the token
expires or ``XTRACT_GLOBUS_INTROSPECT_CACHE_SECONDS`` pass, whichever is first, so a
revoked token stops working within that time.

To act for the caller, the service exchanges their token for dependent tokens
(``oauth2_get_dependent_tokens``) for Transfer, Search and Compute: callers no longer
pass raw Transfer tokens. The published SDKs authenticate with a Transfer or Compute
token on the legacy routes; with ``XTRACT_LEGACY_SERVICE_TOKENS`` (the default) such a
token is accepted there, its identity still Globus Auth's answer, and it is used for the
service it was issued for (no dependent grant can be made from it).

Tokens are never logged, stored or put in an error message.

>>> auth = GlobusAuth(settings)                       # doctest: +SKIP
>>> caller = auth.authenticate(token)                 # doctest: +SKIP
>>> auth.service_tokens(caller)["Transfer"]           # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import globus_sdk

from xtract_service.auth.base import AuthRefused, AuthUnavailable, Caller
from xtract_service.auth.local import LocalTokens
from xtract_service.globus import clients, tokens
from xtract_service.settings import Settings

CACHE_ENTRIES = 10_000


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class _Cache:
    """A bounded map of token digest -> (good until, value), oldest dropped first."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if hit[0] <= time.time():
                del self._items[key]
                return None
            return hit[1]

    def put(self, key: str, until: float, value: Any) -> None:
        with self._lock:
            self._items[key] = (until, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class GlobusAuth:
    """Callers by Globus Auth introspection; dependent tokens to act for them."""

    def __init__(self, settings: Settings, local: LocalTokens | None = None) -> None:
        """``settings`` are checked by ``create_app`` (``Settings.auth_problem``)."""
        self.client_id = str(settings.globus_client_id)
        self.scope = settings.xtract_scope
        self.cache_seconds = settings.globus_introspect_cache_seconds
        self.settings = settings
        self.client = clients.auth_app(settings)
        self.service_clients = frozenset(settings.globus_service_clients)
        self.admission = Admission(settings.globus_admit)
        self.grants = Grants(settings.globus_roots)
        self._callers = _Cache()
        self._dependent = _Cache()
        # the host's own token file (and issued tokens) still work, for its CLI
        self.local = local

    # -- who is calling ---------------------------------------------------------------
    def known(self, token: str) -> Caller | None:
        """The service's local token only: a Globus token is introspected and its
        caller admitted, on the thread pool."""
        return self.local.known(token) if self.local is not None else None

    def authenticate(self, token: str, accept: frozenset[str] = frozenset()) -> Caller:
        if self.local is not None:
            owner = self.local.owner_for(token)
            if owner is not None:
                return Caller(owner)
        key = digest(token)
        found: tuple[Caller, frozenset[str], str] | None = self._callers.get(key)
        if found is None:
            found = self._introspect(token, key)
        caller, audiences, issued_to = found
        if self.client_id in audiences:
            self._admit(caller)
            return caller
        # a service's token (a published client's Transfer or Compute token)
        match = next((a for a in sorted(audiences) if a in accept), None)
        if match is None:
            issued = ", ".join(sorted(audiences)) or "no audience"
            raise AuthRefused(
                401,
                "wrong_audience",
                f"the token was issued for {issued}, not for this Xtract service; "
                "log in with `xtract login` (or XtractClient()) to get one",
            )
        if issued_to not in self.service_clients:
            raise AuthRefused(
                401,
                "wrong_client",
                f"the token was issued to the app {issued_to or '(none named)'}, whose tokens "
                "this service does not take (XTRACT_GLOBUS_SERVICE_CLIENTS); log in with "
                "`xtract login` (or XtractClient()) to get one",
            )
        service_caller = Caller(caller.owner, caller.name, token, match)
        self._admit(service_caller)
        return service_caller

    def _admit(self, caller: Caller) -> None:
        """AuthRefused (403) unless the operator admits ``caller``: by identity, by the
        domain of their username, or by a group they are an active member of."""
        if self.admission.admits(caller, lambda: self.groups_of(caller)):
            return
        raise AuthRefused(
            403,
            "not_admitted",
            f"the Globus identity {caller.name} is not admitted to this service; its "
            "operator admits identities, groups and domains with XTRACT_GLOBUS_ADMIT",
        )

    def _introspect(self, token: str, key: str) -> tuple[Caller, frozenset[str], str]:
        try:
            info = self.client.oauth2_token_introspect(token).data
        except globus_sdk.GlobusAPIError as exc:
            if exc.http_status in (401, 403):
                raise AuthUnavailable(
                    "Globus Auth refused this service's client credentials "
                    "(check XTRACT_GLOBUS_CLIENT_ID and its secret)"
                ) from None
            if exc.http_status >= 500 or exc.http_status == 429:
                raise AuthUnavailable(
                    f"Globus Auth answered {exc.http_status}; try again shortly"
                ) from None
            raise AuthRefused(
                401, "invalid_token", "Globus Auth could not read the token"
            ) from None
        except globus_sdk.NetworkError:
            raise AuthUnavailable("Globus Auth cannot be reached; try again shortly") from None
        now = time.time()
        if not info.get("active"):
            raise AuthRefused(
                401,
                "invalid_token",
                "the token is expired, revoked or not a Globus token; log in again",
            )
        exp = float(info.get("exp") or 0)
        if exp <= now:
            raise AuthRefused(401, "expired_token", "the token has expired; log in again")
        audiences = frozenset(_words(info.get("aud")))
        scopes = set(_words(info.get("scope")))
        if self.client_id in audiences and self.scope not in scopes:
            raise AuthRefused(
                403,
                "missing_scope",
                f"the token does not carry the Xtract scope {self.scope}; log in again "
                "with it (XtractClient(force_login=True))",
            )
        owner = str(info.get("sub") or "")
        if not owner:
            raise AuthRefused(401, "invalid_token", "Globus Auth named no identity for the token")
        caller = Caller(owner, str(info.get("username") or owner), token)
        found = (caller, audiences, str(info.get("client_id") or ""))
        self._callers.put(key, min(exp, now + self.cache_seconds), found)
        return found

    # -- acting for the caller ------------------------------------------------------------
    def service_tokens(self, caller: Caller, extra: dict[str, str] | None = None) -> dict[str, str]:
        """``{Transfer, Search, Compute, Groups}`` access tokens for ``caller``: dependent
        tokens for an Xtract token, the token itself for a service's token, none for
        a local token."""
        if not caller.token:
            return {}
        if caller.audience is not None:
            name = tokens.SCOPES.get(caller.audience, (None, None))[0]
            return {name: caller.token} if name else {}
        granted = self._dependent_tokens(caller.token)
        for name, scope in (extra or {}).items():
            got = self._extra_token(caller.token, scope)
            if got:
                granted[name] = got
        return granted

    def _extra_token(self, token: str, scope: str) -> str | None:
        """One more dependent token (a collection's HTTPS scope, say), or None when
        Globus Auth will not grant it: the caller then needs another way."""
        key = digest(token + " " + scope)
        cached: str | None = self._dependent.get(key)
        if cached is not None:
            return cached
        try:
            resp = self.client.oauth2_get_dependent_tokens(token, scope=scope)
        except (globus_sdk.GlobusAPIError, globus_sdk.NetworkError):
            return None
        for data in resp.by_resource_server.values():
            if scope in str(data.get("scope", "")).split():
                until = min(time.time() + self.cache_seconds, float(data["expires_at_seconds"]))
                self._dependent.put(key, until, data["access_token"])
                return str(data["access_token"])
        return None

    def _dependent_tokens(self, token: str) -> dict[str, str]:
        key = digest(token)
        cached: dict[str, str] | None = self._dependent.get(key)
        if cached is not None:
            return dict(cached)
        scopes = [str(scope) for _, scope in tokens.SCOPES.values()]
        try:
            resp = self.client.oauth2_get_dependent_tokens(token, scope=scopes)
        except globus_sdk.GlobusAPIError as exc:
            if exc.http_status >= 500 or exc.http_status == 429:
                raise AuthUnavailable(
                    f"Globus Auth answered {exc.http_status} to a dependent token grant"
                ) from None
            raise AuthRefused(
                403,
                "no_dependent_tokens",
                "Globus Auth would not let the service act for this identity at "
                "Transfer, Search and Compute; log in again and consent to them",
            ) from None
        except globus_sdk.NetworkError:
            raise AuthUnavailable("Globus Auth cannot be reached; try again shortly") from None
        granted: dict[str, str] = {}
        until = time.time() + self.cache_seconds
        for server, data in resp.by_resource_server.items():
            name = tokens.SCOPES.get(server, (None, None))[0]
            if name:
                granted[name] = data["access_token"]
                until = min(until, float(data.get("expires_at_seconds") or until))
        self._dependent.put(key, until, granted)
        return dict(granted)

    def groups_of(self, caller: Caller) -> set[str]:
        """The groups Globus Groups says ``caller`` is an active member of, with a
        dependent Groups token; cached like introspection. None are known for a local
        token or a service's token."""
        if not caller.token or caller.audience is not None:
            return set()
        key = "groups " + digest(caller.token)
        cached: set[str] | None = self._dependent.get(key)
        if cached is not None:
            return set(cached)
        token = self.service_tokens(caller).get(tokens.GROUPS)
        if not token:
            return set()
        client = clients.groups(token, self.settings)
        try:
            found = {str(g["id"]) for g in client.get_my_groups(statuses="active")}
        except globus_sdk.GlobusAPIError as exc:
            if exc.http_status >= 500:
                raise AuthUnavailable(f"Globus Groups answered {exc.http_status}") from None
            return set()
        except globus_sdk.NetworkError:
            raise AuthUnavailable("Globus Groups cannot be reached; try again shortly") from None
        self._dependent.put(key, time.time() + self.cache_seconds, found)
        return found

    def roots_for(self, caller: Caller) -> list[str] | None:
        if not caller.token:  # a local token's owner: the roots it was issued with
            return self.local.roots_for(caller) if self.local is not None else None
        if not self.settings.globus_roots:
            return None
        return self.grants.roots(caller, lambda: self.groups_of(caller))


class Admission:
    """Who may use the service: ``XTRACT_GLOBUS_ADMIT``'s identities, ``group:<id>``
    and ``domain:<example.org>`` entries (none: nobody)."""

    def __init__(self, entries: list[str]) -> None:
        self.identities = {e for e in entries if ":" not in e}
        self.groups = {e.split(":", 1)[1] for e in entries if e.startswith("group:")}
        self.domains = {e.split(":", 1)[1].lower() for e in entries if e.startswith("domain:")}

    def admits(self, caller: Caller, groups: Callable[[], set[str]]) -> bool:
        """Whether ``caller`` is admitted; ``groups`` (a call to Globus Groups) is asked
        only when identity and domain do not already say yes."""
        if caller.owner in self.identities:
            return True
        domain = caller.name.rpartition("@")[2].lower() if "@" in caller.name else ""
        if domain and domain in self.domains:
            return True
        return bool(self.groups) and bool(self.groups & groups())


class Grants:
    """``XTRACT_GLOBUS_ROOTS``: local folders granted per identity id, ``group:<id>``
    and ``domain:<d>``; an identity reaches the union of what matches it."""

    def __init__(self, entries: dict[str, list[str]]) -> None:
        self.entries = entries
        self.admission = {key: Admission([key]) for key in entries}

    def roots(self, caller: Caller, groups: Callable[[], set[str]]) -> list[str]:
        mine: set[str] | None = None

        def my_groups() -> set[str]:  # asked of Globus Groups once, and only if needed
            nonlocal mine
            if mine is None:
                mine = groups()
            return mine

        found: list[str] = []
        for key, admission in self.admission.items():
            if admission.admits(caller, my_groups):
                found += [r for r in self.entries[key] if r not in found]
        return found


def _words(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []
