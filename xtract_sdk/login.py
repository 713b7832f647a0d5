"""Globus login for the SDK, with globus-sdk's own app and login-flow classes, kept as
globus-cli and the Globus Compute SDK keep theirs.

A service run with ``XTRACT_AUTH=globus`` says so on ``/health``, with the scope its
callers' tokens must carry. :class:`GlobusLogin` then asks for that scope and the
seed's defaults, each as narrow as what Xtract does with it (openid; Search *ingest*,
not all of Search; Transfer; Compute) plus any ``auth_scopes``:

- **a person**, through a ``globus_sdk.UserApp``: the command-line login flow prints a
  URL and reads the code (in a terminal and in a notebook alike). Where there is no
  terminal to read it from (a cron job, CI) and no notebook, a login that is needed
  is one clear :class:`AuthError` line instead of a prompt nobody answers.
- **a service account** (CI, cron, a shared robot), through a ``globus_sdk.ClientApp``
  and the client-credentials grant, when ``XTRACT_CLIENT_ID`` and
  ``XTRACT_CLIENT_SECRET`` are set (one without the other is an error).

Tokens rest in SQLite, ``~/.xtract/storage.db`` (0600), in a namespace per Globus
environment and profile (``GLOBUS_SDK_ENVIRONMENT``, ``XTRACT_PROFILE``:
``production/default`` unless set; a service account's under its client id), and are
refreshed with refresh tokens. The JSON file earlier versions kept,
``~/.xtract/sdk-tokens.json``, is imported once and deleted. ``force=True`` runs the
flow again; :meth:`GlobusLogin.logout` revokes every token and forgets them.

>>> login = GlobusLogin(xtract_scope, resource_server)   # doctest: +SKIP
>>> login.login()                                        # prints a URL, asks for the code
>>> login.authorizer().get_authorization_header()        # 'Bearer ...'
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import globus_sdk
from globus_sdk.scopes import AuthScopes, ComputeScopes, SearchScopes, TransferScopes
from globus_sdk.token_storage import JSONTokenStorage, SQLiteTokenStorage

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
    SearchScopes.resource_server: {str(SearchScopes.all), str(SearchScopes.ingest)},
    TransferScopes.resource_server: {str(TransferScopes.all)},
    ComputeScopes.resource_server: {str(ComputeScopes.all)},
}
# what Xtract does with each service, and no more: Search only ingests (and deletes the
# entries of removed files, which the ingest scope allows)
DEFAULT_SCOPES = [AuthScopes.openid, SearchScopes.ingest, TransferScopes.all, ComputeScopes.all]
CLIENT_ID_ENV, CLIENT_SECRET_ENV = "XTRACT_CLIENT_ID", "XTRACT_CLIENT_SECRET"


def token_file() -> Path:
    """Where the SDK keeps its Globus tokens: ``~/.xtract/storage.db`` (SQLite)."""
    return xtract_home() / "storage.db"


def legacy_token_file() -> Path:
    """The JSON token file of earlier versions, imported once."""
    return xtract_home() / "sdk-tokens.json"


def namespace() -> str:
    """The tokens' namespace: the Globus environment and the profile."""
    env = os.environ.get("GLOBUS_SDK_ENVIRONMENT") or "production"
    return f"{env}/{os.environ.get('XTRACT_PROFILE') or 'default'}"


def service_account() -> tuple[str, str] | None:
    """``(client id, secret)`` of a service account from the environment, if set;
    AuthError for one without the other."""
    cid, secret = os.environ.get(CLIENT_ID_ENV), os.environ.get(CLIENT_SECRET_ENV)
    if cid and secret:
        return cid, secret
    if cid or secret:
        given, missing = (
            (CLIENT_SECRET_ENV, CLIENT_ID_ENV) if secret else (CLIENT_ID_ENV, CLIENT_SECRET_ENV)
        )
        raise AuthError(
            f"{given} is set but {missing} is not: a service account needs both "
            "(a Globus confidential client's id and secret)"
        )
    return None


def interactive() -> bool:
    """Whether a person can answer a login prompt here: a terminal, or a notebook."""
    from xtract_sdk.progress import _in_notebook

    return _in_notebook() or (sys.stdin is not None and sys.stdin.isatty())


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
    """One user's (or service account's) Globus login for one Xtract service."""

    def __init__(
        self,
        xtract_scope: str,
        resource_server: str,
        auth_scopes: Iterable[str] = (),
        *,
        client_id: str | None = None,
        path: Path | None = None,
        login_flow_manager: Any = None,
        ask: bool | None = None,
    ) -> None:
        """``ask``: whether the login flow may prompt (None: where a person can answer,
        :func:`interactive`; True: always, as ``xtract login`` does when told to)."""
        self.resource_server = resource_server
        self.path = Path(path or token_file())
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        scopes = scope_requirements(xtract_scope, resource_server, auth_scopes)
        account = service_account()
        ns = namespace() if account is None else f"{namespace()}/client/{account[0]}"
        self.storage = SQLiteTokenStorage(self.path, namespace=ns)
        _private(self.path)
        if account is None and path is None:
            self._import_legacy()
        self.prompts = login_flow_manager is None and account is None and ask is None
        config = globus_sdk.GlobusAppConfig(
            token_storage=self.storage,
            request_refresh_tokens=True,
            login_flow_manager=login_flow_manager,
        )
        self.app: globus_sdk.GlobusApp
        if account is not None:
            self.app = globus_sdk.ClientApp(
                "Xtract", client_id=account[0], client_secret=account[1],
                scope_requirements=scopes, config=config,
            )  # fmt: skip
        else:
            client_id = client_id or os.environ.get("XTRACT_SDK_CLIENT_ID") or DEFAULT_CLIENT_ID
            self.app = globus_sdk.UserApp(
                "Xtract", client_id=client_id, scope_requirements=scopes, config=config
            )

    def _import_legacy(self) -> None:
        """Take the tokens of an earlier version's JSON file into this storage, once."""
        old = legacy_token_file()
        if not old.exists() or self.storage.get_token_data_by_resource_server():
            return
        found = JSONTokenStorage(old).get_token_data_by_resource_server()
        if found:
            self.storage.store_token_data_by_resource_server(found)
        old.unlink()

    @classmethod
    def stored(cls, path: Path | None = None, client_id: str | None = None) -> GlobusLogin:
        """The login whose tokens are stored in ``path``, for logging out without
        asking any service what its scope is."""
        return cls(str(AuthScopes.openid), "auth.globus.org", client_id=client_id, path=path)

    def login(self, force: bool = False) -> None:
        """Run the login flow if no stored tokens do (always with ``force``); where
        nobody can answer its prompt, say so in one line instead."""
        if self.prompts and not interactive() and (force or self.app.login_required()):
            raise AuthError(
                "Globus login needed, and there is no terminal here to log in at: run "
                f"`xtract login` in one, or set {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} "
                "(a service account) for unattended runs"
            )
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
        """Revoke every stored token and forget them."""
        try:
            self.app.logout(sweep=True)
        except globus_sdk.GlobusAPIError as exc:
            raise AuthError(f"Globus refused to revoke the tokens: {exc.message}") from None
        except globus_sdk.NetworkError:
            raise AuthError(
                "Globus Auth cannot be reached to revoke the tokens; they are kept in "
                f"{self.path} until you can log out"
            ) from None
        for rs in list(self.storage.get_token_data_by_resource_server()):
            self.storage.remove_token_data(rs)

    def stored_tokens(self) -> dict[str, Any]:
        """The tokens kept for this login, by resource server."""
        return dict(self.storage.get_token_data_by_resource_server())


def _private(path: Path) -> None:
    if path.exists():
        os.chmod(path, 0o600)
