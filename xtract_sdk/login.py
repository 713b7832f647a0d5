"""Globus login for the SDK, with globus-sdk's own app and login-flow classes.

A service run with ``XTRACT_AUTH=globus`` says so on ``/health``, with the scope its
callers' tokens must carry. :class:`GlobusLogin` then asks for that scope and the
seed's defaults (openid, Search, Transfer, Compute) plus any ``auth_scopes``, through a
``globus_sdk.UserApp``: the command-line login flow prints a URL and reads the code
(in a terminal and in a notebook alike); tokens are kept in a JSON token storage file
``~/.xtract/sdk-tokens.json`` (0600) and refreshed with refresh tokens;
``force=True`` runs the flow again. :meth:`GlobusLogin.logout` revokes every token and
deletes the file.

>>> login = GlobusLogin(xtract_scope, resource_server)   # doctest: +SKIP
>>> login.login()                                        # prints a URL, asks for the code
>>> login.authorizer().get_authorization_header()        # 'Bearer ...'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import globus_sdk
from globus_sdk.scopes import AuthScopes, ComputeScopes, SearchScopes, TransferScopes
from globus_sdk.token_storage import JSONTokenStorage

from xtract_sdk._http import xtract_home
from xtract_sdk.errors import AuthError

# a placeholder for the Xtract SDK's registered native app; deployments set their own
# (XTRACT_SDK_CLIENT_ID, or the service's XTRACT_GLOBUS_NATIVE_CLIENT_ID on /health)
DEFAULT_CLIENT_ID = "8c1b1a53-7c8e-4bd6-a6a5-7d40e1f0c0de"
PETREL = "https://auth.globus.org/scopes/56ceac29-e98a-440a-a594-b41e7a084b62/all"
# the short names the published SDK (and mdf_toolbox) took, as full scopes
SHORT_NAMES = {
    "openid": AuthScopes.openid,
    "email": AuthScopes.email,
    "profile": AuthScopes.profile,
    "search": SearchScopes.all,
    "transfer": TransferScopes.all,
    "funcx": ComputeScopes.all,
    "compute": ComputeScopes.all,
    "petrel": PETREL,
}
# the scopes of the services Xtract works with, by resource server (Compute's scope
# names a client id that is not its resource server, "funcx_service")
KNOWN = {
    AuthScopes.resource_server: {"openid", "email", "profile", str(AuthScopes.openid)},
    SearchScopes.resource_server: {str(SearchScopes.all)},
    TransferScopes.resource_server: {str(TransferScopes.all)},
    ComputeScopes.resource_server: {str(ComputeScopes.all)},
}
DEFAULT_SCOPES = [AuthScopes.openid, SearchScopes.all, TransferScopes.all, ComputeScopes.all]


def token_file() -> Path:
    """Where the SDK keeps its Globus tokens: ``~/.xtract/sdk-tokens.json``."""
    return xtract_home() / "sdk-tokens.json"


def resource_server_of(scope: str) -> str:
    """The resource server a scope string belongs to, by Globus's naming rules."""
    for known in (AuthScopes, SearchScopes, TransferScopes, ComputeScopes):
        if scope in KNOWN[known.resource_server]:
            return str(known.resource_server)
    if scope.startswith("https://auth.globus.org/scopes/"):
        return scope.split("/")[4]
    if scope.startswith("urn:globus:auth:scope:"):
        return scope.split(":")[4]
    return "auth.globus.org"


def scope_requirements(
    xtract_scope: str, resource_server: str, extra: Iterable[str] = ()
) -> dict[str, list[str]]:
    """The seed's default scopes, the Xtract service's scope and ``extra`` (full
    scopes or the published SDK's short names), grouped by resource server."""
    wanted = [*DEFAULT_SCOPES, xtract_scope, *(SHORT_NAMES.get(s, s) for s in extra)]
    found: dict[str, list[str]] = {}
    for scope in wanted:
        rs = resource_server if scope == xtract_scope else resource_server_of(str(scope))
        if str(scope) not in found.setdefault(rs, []):
            found[rs].append(str(scope))
    return found


class GlobusLogin:
    """One user's Globus login for one Xtract service."""

    def __init__(
        self,
        xtract_scope: str,
        resource_server: str,
        auth_scopes: Iterable[str] = (),
        *,
        client_id: str | None = None,
        path: Path | None = None,
        login_flow_manager: Any = None,
    ) -> None:
        self.resource_server = resource_server
        self.path = Path(path or token_file())
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        client_id = client_id or os.environ.get("XTRACT_SDK_CLIENT_ID") or DEFAULT_CLIENT_ID
        config = globus_sdk.GlobusAppConfig(
            token_storage=JSONTokenStorage(self.path),
            request_refresh_tokens=True,
            login_flow_manager=login_flow_manager,
        )
        self.app = globus_sdk.UserApp(
            "Xtract",
            client_id=client_id,
            scope_requirements=scope_requirements(xtract_scope, resource_server, auth_scopes),
            config=config,
        )

    @classmethod
    def stored(cls, path: Path | None = None, client_id: str | None = None) -> GlobusLogin:
        """The login whose tokens are stored in ``path``, for logging out without
        asking any service what its scope is."""
        return cls(str(AuthScopes.openid), "auth.globus.org", client_id=client_id, path=path)

    def login(self, force: bool = False) -> None:
        """Run the login flow if no stored tokens do (always with ``force``)."""
        try:
            self.app.login(force=force)
        except globus_sdk.GlobusAPIError as exc:
            raise AuthError(f"Globus login failed: {exc.message}", exc.http_status) from None
        except EOFError:
            raise AuthError(
                "Globus login needs the code from the URL above, and no input was given"
            ) from None
        _private(self.path)

    def authorizer(self) -> globus_sdk.authorizers.GlobusAuthorizer:
        """A refreshing authorizer for the Xtract service (logs in first if needed)."""
        authorizer = self.app.get_authorizer(self.resource_server)
        _private(self.path)
        return authorizer

    def logout(self) -> None:
        """Revoke every stored token and delete the token file."""
        try:
            self.app.logout(sweep=True)
        except globus_sdk.GlobusAPIError as exc:
            raise AuthError(f"Globus refused to revoke the tokens: {exc.message}") from None
        except globus_sdk.NetworkError:
            raise AuthError(
                "Globus Auth cannot be reached to revoke the tokens; they are kept in "
                f"{self.path} until you can log out"
            ) from None
        self.path.unlink(missing_ok=True)


def _private(path: Path) -> None:
    if path.exists():
        os.chmod(path, 0o600)
