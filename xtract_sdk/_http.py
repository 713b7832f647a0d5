"""The SDK's HTTP core: one session to one service, the bearer token, and the mapping
of error answers onto :mod:`xtract_sdk.errors`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from xtract_sdk.errors import AuthError, ServiceUnavailableError, error_for_status

try:  # a flush of 10,000 records parses 3-5x faster; the SDK does not need it
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - the SDK installed on its own
    import json

    _loads = json.loads

DEFAULT_URL = "http://127.0.0.1:8765"


def default_url() -> str:
    """``$XTRACT_URL``, else this machine at ``$XTRACT_PORT`` (8765), where
    ``xtract serve`` listens by default."""
    url = os.environ.get("XTRACT_URL")
    if url:
        return url
    port = os.environ.get("XTRACT_PORT", "").strip()
    return f"http://127.0.0.1:{port}" if port.isdigit() else DEFAULT_URL


def xtract_home() -> Path:
    """``$XTRACT_HOME`` or ``~/.xtract``, where a local service keeps its token."""
    return Path(os.environ.get("XTRACT_HOME") or Path.home() / ".xtract")


def path_id(value: str) -> str:
    """An id made safe to put in a URL path."""
    return quote(str(value), safe="")


def is_local(url: str) -> bool:
    return (urlparse(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


_RETRY_WAITS = (0.2, 0.5, 1.0, 2.0, 4.0)  # a 429 with Retry-After is asked again


def _retry_after(resp: requests.Response) -> float:
    """The Retry-After of a refusal, in seconds (0: none; a quota, not a wait)."""
    try:
        return float(resp.headers.get("Retry-After", 0))
    except ValueError:
        return 0.0


class HttpCore:
    """Sends requests to one Xtract service with the caller's token.

    The token is ``token``, else ``$XTRACT_TOKEN``, else (for a service on this
    machine) the local token file ``~/.xtract/token`` that the service wrote.
    """

    def __init__(self, base_url: str | None, token: str | None, timeout: float) -> None:
        self.base_url = (base_url or default_url()).rstrip("/")
        self.timeout = timeout
        given = token or os.environ.get("XTRACT_TOKEN")
        # a token the caller chose wins over a Globus login; the local file does not
        self.token_chosen = bool(given)
        self._token = given or self._read_token_file()
        # set after a Globus login: refreshes its access token as it nears expiry
        self.authorizer: Any = None
        self._session = requests.Session()
        # a service on this machine is reached directly: not through a proxy named in
        # the environment (HTTP_PROXY without NO_PROXY, common on cluster login nodes,
        # sent 127.0.0.1 to the proxy) and without ~/.netrc's credentials (which
        # requests puts in place of the bearer token); and each call skips looking
        # them up (0.3 ms)
        self._session.trust_env = not is_local(self.base_url)
        # a kept-alive connection the server closed just as it was reused fails at once;
        # reads are safe to send again, so they are (writes are not: never resent)
        retry = Retry(
            total=2,
            connect=2,
            read=2,
            status=0,
            other=0,
            allowed_methods=frozenset({"GET", "HEAD"}),
            raise_on_status=False,
            backoff_factor=0.1,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def _read_token_file(self) -> str | None:
        if not is_local(self.base_url):
            return None
        try:
            return (xtract_home() / "token").read_text().strip() or None
        except OSError:
            return None

    def headers(self) -> dict[str, str]:
        """The headers that authenticate a request; :class:`AuthError` when a Globus
        login can no longer be refreshed (its refresh token was revoked)."""
        if self.authorizer is not None:
            import globus_sdk

            try:
                return {"Authorization": self.authorizer.get_authorization_header()}
            except globus_sdk.GlobusAPIError as exc:
                raise AuthError(
                    f"Globus would not refresh your login ({exc.http_status} {exc.code}); "
                    "log in again: `xtract login --force` or XtractClient(force_login=True)",
                    exc.http_status,
                    "refresh_refused",
                ) from None
            except globus_sdk.NetworkError as exc:
                raise ServiceUnavailableError(
                    f"Globus Auth cannot be reached to refresh your login ({exc})"
                ) from None
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def _send(self, method: str, path: str, json: Any) -> requests.Response:
        try:
            return self._session.request(
                method,
                self.base_url + path,
                json=json,
                headers=self.headers(),
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise ServiceUnavailableError(
                f"cannot reach the Xtract service at {self.base_url} ({exc.__class__.__name__}); "
                "is `xtract serve` running?"
            ) from exc

    def answer(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        """:meth:`request` for the routes that answer a JSON object (nearly all)."""
        found: dict[str, Any] = self.request(method, path, json)
        return found

    def request(self, method: str, path: str, json: Any = None) -> Any:
        """The decoded JSON answer; an :class:`~xtract_sdk.errors.XtractError` subclass
        for an error answer or an unreachable service. A 401 after a Globus login gets
        the access token refreshed and the request sent once more."""
        resp = self._answered(method, path, json)
        if not resp.content:
            return None
        try:
            return _loads(resp.content)
        except ValueError:
            raise self._not_xtract(resp) from None

    def content(self, path: str) -> bytes:
        """The bytes a GET answers (a Parquet part, say), errors as :meth:`request`'s."""
        return bytes(self._answered("GET", path, None).content)

    def _answered(self, method: str, path: str, json: Any) -> requests.Response:
        """The answer to a request that succeeded (retried, refreshed as need be)."""
        resp = self._send(method, path, json)
        for wait in _RETRY_WAITS:  # refused for work running at once: it passes
            if resp.status_code != 429 or not _retry_after(resp):
                break
            time.sleep(max(wait, min(_retry_after(resp), 5.0)))
            resp = self._send(method, path, json)
        if (
            resp.status_code == 401
            and self.authorizer is not None
            and self.authorizer.handle_missing_authorization()
        ):
            resp = self._send(method, path, json)
        if resp.status_code >= 400:
            try:
                err = resp.json()["error"]
                message, code = err["message"], err.get("code")
            except (ValueError, KeyError, TypeError):
                raise self._not_xtract(resp) from None
            raise error_for_status(resp.status_code, message, code)
        return resp

    def _not_xtract(self, resp: requests.Response) -> ServiceUnavailableError:
        kind = resp.headers.get("Content-Type", "no content type").split(";")[0]
        return ServiceUnavailableError(
            f"{self.base_url} answered HTTP {resp.status_code} ({kind}), not as an Xtract "
            "service does; is --url / XTRACT_URL the Xtract service?",
            resp.status_code,
            "not_xtract",
        )

    def stream(
        self, path: str, headers: dict[str, str], params: dict[str, str] | None
    ) -> requests.Response:
        """An open streaming GET (Server-Sent Events); the caller closes it. A session of
        its own, as ``requests.get`` makes (it may be read in another thread), reaching
        the service as the others do (no proxy or netrc for one on this machine)."""
        with requests.Session() as session:
            session.trust_env = self._session.trust_env
            return session.get(
                self.base_url + path,
                headers={**self.headers(), **headers},
                params=params,
                stream=True,
                timeout=(10, 10),
            )
