"""A loopback emulator of Globus Auth: the calls Xtract and globus-sdk's login make.

With the documented shapes (https://docs.globus.org/api/auth/reference/):

- ``GET /v2/oauth2/authorize`` (the browser step): the "browser" is logged in as
  ``browser_user``; answers a 302 to ``redirect_uri?code=...&state=...``
- ``GET /v2/web/auth-code?code=`` the page a native app's user copies the code from
  (here ``{"code": ...}``)
- ``POST /v2/oauth2/token`` with ``grant_type`` ``authorization_code`` (PKCE, native
  client), ``refresh_token``, ``client_credentials`` and
  ``urn:globus:auth:grant_type:dependent_token`` (confidential client, Basic auth;
  answers a list of token documents)
- ``POST /v2/oauth2/token/introspect`` (confidential client): ``{active, scope, sub,
  username, aud, client_id, exp, iat, nbf, iss, token_type, identity_set}``
- ``POST /v2/oauth2/token/revoke``: revoking a refresh token also ends the access
  tokens minted from it
- ``GET /.well-known/openid-configuration`` and its ``jwks_uri``: ``id_token``s are
  real RS512 JWTs that globus-sdk verifies

Point the real clients at it with ``GLOBUS_SDK_SERVICE_URL_AUTH=http://127.0.0.1:PORT/``.
``access_lifetime`` sets how long access tokens live (expiry tests), ``down`` answers
every call with a 503.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.emulators._server import JsonServer, Reply

AUTH_RS = "auth.globus.org"
DEPENDENT = "urn:globus:auth:grant_type:dependent_token"
KNOWN_SCOPES = {
    "openid": AUTH_RS,
    "email": AUTH_RS,
    "profile": AUTH_RS,
    "urn:globus:auth:scope:transfer.api.globus.org:all": "transfer.api.globus.org",
    "urn:globus:auth:scope:search.api.globus.org:all": "search.api.globus.org",
    "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships": (
        "groups.api.globus.org"
    ),
    "https://auth.globus.org/scopes/facd7ccc-c5f4-42aa-916b-a0e270e2c2a9/all": "funcx_service",
}


def resource_server_of(scope: str) -> str:
    """The resource server a scope string belongs to (Globus's own naming rules)."""
    if scope in KNOWN_SCOPES:
        return KNOWN_SCOPES[scope]
    if scope.startswith("https://auth.globus.org/scopes/"):
        return scope.split("/")[4]
    if scope.startswith("urn:globus:auth:scope:"):
        return scope.split(":")[4]
    return scope


class AuthEmulator(JsonServer):
    def __init__(self, clients: dict[str, str | None], access_lifetime: int = 3600) -> None:
        """``clients``: client id -> secret (None for a native app)."""
        super().__init__()
        self.clients = dict(clients)
        self.access_lifetime = access_lifetime
        self.identities: dict[str, dict[str, str]] = {}
        self.browser_user: str | None = None
        self.down = False
        self.refuse_scopes: set[str] = set()  # dependent grants of these fail
        self.tokens: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, int] = {}
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._lock = threading.Lock()

    # -- test set-up ---------------------------------------------------------------
    def identity(self, username: str) -> dict[str, str]:
        """The identity ``username`` (made on first use): ``{sub, username, email}``;
        a bare name is taken to be ``name@example.org``."""
        with self._lock:
            if username not in self.identities:
                full = username if "@" in username else f"{username}@example.org"
                self.identities[username] = {
                    "sub": str(uuid.uuid4()),
                    "username": full,
                    "email": full,
                    "name": username.title(),
                }
            return self.identities[username]

    def mint(self, username: str, scopes: list[str], client_id: str) -> dict[str, str]:
        """Tokens for ``username`` as if they logged in to ``client_id``: one access
        token per resource server, keyed by resource server."""
        ident = self.identity(username)
        by_rs: dict[str, list[str]] = {}
        for scope in scopes:
            by_rs.setdefault(resource_server_of(scope), []).append(scope)
        return {
            rs: self._new_token(ident["sub"], found, client_id, rs)["access_token"]
            for rs, found in by_rs.items()
        }

    def count(self, name: str) -> int:
        with self._lock:
            return self.calls.get(name, 0)

    # -- tokens ----------------------------------------------------------------------
    def _new_token(
        self,
        sub: str,
        scopes: list[str],
        client_id: str,
        rs: str,
        refresh: bool = False,
        parent: str | None = None,
    ) -> dict[str, Any]:
        now = int(time.time())
        access = secrets.token_urlsafe(24)
        doc: dict[str, Any] = {
            "access_token": access,
            "expires_in": self.access_lifetime,
            "resource_server": rs,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        with self._lock:
            self.tokens[access] = {
                "sub": sub,
                "scope": " ".join(scopes),
                "aud": [rs],
                "client_id": client_id,
                "iat": now,
                "exp": now + self.access_lifetime,
                "kind": "access",
                "parent": parent,
                "active": True,
            }
        if refresh:
            rt = secrets.token_urlsafe(24)
            with self._lock:
                self.tokens[rt] = {
                    "sub": sub,
                    "scope": " ".join(scopes),
                    "aud": [rs],
                    "client_id": client_id,
                    "kind": "refresh",
                    "active": True,
                    "exp": now + 10 * 365 * 86400,
                }
                self.tokens[access]["parent"] = rt
            doc["refresh_token"] = rt
        return doc

    def _valid(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            info = self.tokens.get(token)
        if info is None or not info["active"] or info["exp"] <= time.time():
            return None
        return info

    def _id_token(self, sub: str, client_id: str, nonce: str | None = None) -> str:
        ident = next(i for i in self.identities.values() if i["sub"] == sub)
        now = int(time.time())
        claims = {
            "iss": "https://auth.globus.org",
            "sub": sub,
            "aud": client_id,
            "iat": now,
            "exp": now + 172800,
            "preferred_username": ident["username"],
            "email": ident["email"],
            "name": ident["name"],
            "identity_set": [{"sub": sub, "username": ident["username"]}],
        }
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self._key, algorithm="RS512")

    def _token_response(
        self, sub: str, scopes: list[str], client_id: str, refresh: bool
    ) -> dict[str, Any]:
        """Globus's shape: one resource server's token at the top, the rest in
        ``other_tokens``; an ``id_token`` when ``openid`` was asked for."""
        by_rs: dict[str, list[str]] = {}
        for scope in scopes:
            by_rs.setdefault(resource_server_of(scope), []).append(scope)
        docs = [self._new_token(sub, found, client_id, rs, refresh) for rs, found in by_rs.items()]
        top = dict(docs[0])
        top["other_tokens"] = docs[1:]
        top["state"] = "_default"
        if "openid" in scopes:
            top["id_token"] = self._id_token(sub, client_id)
        return top

    # -- client authentication ---------------------------------------------------------
    def _client(self, headers: Any, body: dict[str, Any]) -> tuple[str | None, bool]:
        """(client id, whether it proved a secret) from Basic auth or the body."""
        header = headers.get("Authorization") or ""
        if header.startswith("Basic "):
            try:
                cid, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None, False
            if (
                cid in self.clients
                and self.clients[cid] is not None
                and self.clients[cid] == secret
            ):
                return cid, True
            return None, False
        named = body.get("client_id")
        if named in self.clients and self.clients[named] is None:
            return named, False
        return None, False

    # -- routes ------------------------------------------------------------------------
    def route(self, method: str, path: str, query: str, body: Any, headers: Any) -> Reply:
        name = path.strip("/")
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1
        if self.down:
            return 503, {"errors": [{"code": "ServiceUnavailable"}]}, {}
        body = body or {}
        if method == "GET" and name == ".well-known/openid-configuration":
            return 200, self._openid_configuration(), {}
        if method == "GET" and name == "jwk.json":
            jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
            jwk.update(alg="RS512", use="sig", kid="xtract-emulator")
            return 200, {"keys": [jwk]}, {}
        if method == "GET" and name == "v2/oauth2/authorize":
            return self._authorize(parse_qs(query))
        if method == "GET" and name == "v2/web/auth-code":
            code = parse_qs(query).get("code", [""])[0]
            return 200, {"code": code}, {}
        if method == "POST" and name == "v2/oauth2/token":
            return self._token(body, headers)
        if method == "POST" and name == "v2/oauth2/token/introspect":
            return self._introspect(body, headers)
        if method == "POST" and name == "v2/oauth2/token/revoke":
            return self._revoke(body, headers)
        return 404, _error("NOT_FOUND", f"no route {method} {path}"), {}

    def _openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": "https://auth.globus.org",
            "authorization_endpoint": self.url + "v2/oauth2/authorize",
            "token_endpoint": self.url + "v2/oauth2/token",
            "jwks_uri": self.url + "jwk.json",
            "id_token_signing_alg_values_supported": ["RS512"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
        }

    def _authorize(self, q: dict[str, list[str]]) -> Reply:
        one = {k: v[0] for k, v in q.items()}
        if one.get("client_id") not in self.clients:
            return 400, _error("UNKNOWN_CLIENT", "no such client"), {}
        if self.browser_user is None:
            return 401, _error("LOGIN_REQUIRED", "nobody is logged in to the browser"), {}
        ident = self.identity(self.browser_user)
        code = secrets.token_urlsafe(16)
        with self._lock:
            self.codes[code] = {
                "client_id": one["client_id"],
                "sub": ident["sub"],
                "scopes": one.get("scope", "").split(),
                "redirect_uri": one.get("redirect_uri"),
                "challenge": one.get("code_challenge"),
                "offline": one.get("access_type") == "offline",
            }
        target = (
            one.get("redirect_uri", "")
            + "?"
            + urlencode({"code": code, "state": one.get("state", "")})
        )
        return 302, {}, {"Location": target}

    def _token(self, body: dict[str, Any], headers: Any) -> Reply:
        grant = body.get("grant_type")
        cid, confidential = self._client(headers, body)
        if cid is None:
            return 401, {"error": "invalid_client"}, {}
        if grant == "authorization_code":
            with self._lock:
                code = self.codes.pop(body.get("code", ""), None)
            if code is None or code["client_id"] != cid:
                return 401, {"error": "invalid_grant"}, {}
            if code["redirect_uri"] != body.get("redirect_uri"):
                return 401, {"error": "invalid_grant"}, {}
            if code["challenge"]:
                verifier = body.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                expect = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                if expect != code["challenge"]:
                    return 401, {"error": "invalid_grant"}, {}
            return 200, self._token_response(code["sub"], code["scopes"], cid, code["offline"]), {}
        if grant == "refresh_token":
            info = self._valid(body.get("refresh_token", ""))
            if info is None or info["kind"] != "refresh" or info["client_id"] != cid:
                return 401, {"error": "invalid_grant"}, {}
            doc = self._new_token(
                info["sub"], info["scope"].split(), cid, info["aud"][0], parent=None
            )
            with self._lock:
                self.tokens[doc["access_token"]]["parent"] = body["refresh_token"]
            doc["refresh_token"] = body["refresh_token"]
            doc["other_tokens"] = []
            return 200, doc, {}
        if grant == "client_credentials" and confidential:
            # the client acts as itself: its identity is ``<client id>@clients.auth.globus.org``
            ident = self.identity(f"{cid}@clients.auth.globus.org")
            scopes = (body.get("scope") or "").split()
            return 200, self._token_response(ident["sub"], scopes, cid, False), {}
        if grant == DEPENDENT and confidential:
            info = self._valid(body.get("token", ""))
            if info is None or cid not in info["aud"]:
                return 401, {"error": "invalid_grant"}, {}
            scopes = (body.get("scope") or "").split()
            if set(scopes) & self.refuse_scopes:
                return 403, {"error": "consent_required"}, {}
            docs = []
            for scope in scopes:
                rs = resource_server_of(scope)
                docs.append(self._new_token(info["sub"], [scope], cid, rs))
            return 200, docs, {}
        return 400, {"error": "unsupported_grant_type"}, {}

    def _introspect(self, body: dict[str, Any], headers: Any) -> Reply:
        cid, confidential = self._client(headers, body)
        if cid is None or not confidential:
            return 401, {"error": "invalid_client"}, {}
        info = self._valid(body.get("token", ""))
        if info is None or info["kind"] != "access":
            return 200, {"active": False}, {}
        ident = next(i for i in self.identities.values() if i["sub"] == info["sub"])
        doc = {
            "active": True,
            "scope": info["scope"],
            "client_id": info["client_id"],
            "sub": info["sub"],
            "username": ident["username"],
            "name": ident["name"],
            "email": ident["email"],
            "aud": list(info["aud"]),
            "iss": "https://auth.globus.org",
            "exp": info["exp"],
            "iat": info["iat"],
            "nbf": info["iat"],
            "token_type": "Bearer",
        }
        if "identity_set" in (body.get("include") or ""):
            doc["identity_set"] = [info["sub"]]
        return 200, doc, {}

    def _revoke(self, body: dict[str, Any], headers: Any) -> Reply:
        cid, _ = self._client(headers, body)
        if cid is None:
            return 401, {"error": "invalid_client"}, {}
        token = body.get("token", "")
        with self._lock:
            info = self.tokens.get(token)
            if info is not None and info["client_id"] == cid:
                info["active"] = False
                for other in self.tokens.values():
                    if other.get("parent") == token:
                        other["active"] = False
        return 200, {"active": False}, {}

    def accepts(self, resource_server: str) -> Callable[[str], bool]:
        """A check another emulator runs on a bearer token: live and issued for
        ``resource_server``."""

        def ok(token: str) -> bool:
            info = self._valid(token)
            return info is not None and resource_server in info["aud"]

        return ok

    def accepts_https(self) -> Callable[[str, str], bool]:
        """A collection's check of an HTTPS bearer token: live, for that collection."""

        def ok(token: str, collection: str) -> bool:
            info = self._valid(token)
            return info is not None and collection in info["aud"]

        return ok

    # what tests read: how many live tokens an identity holds
    def live_tokens(self, username: str) -> int:
        sub = self.identity(username)["sub"]
        now = time.time()
        with self._lock:
            return sum(
                1
                for t in self.tokens.values()
                if t["sub"] == sub and t["active"] and t["exp"] > now
            )


def _error(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "detail": message, "status": "400"}]}
