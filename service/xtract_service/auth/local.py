"""Local tokens: bearer tokens this service issued, mapped to owners.

On first start the service writes a random token to ``~/.xtract/token``
(mode 0600); it belongs to the owner ``local``. More owners get their own tokens with
:meth:`LocalTokens.issue` (``xtract token issue NAME``); only a hash is kept in Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

import redis

from xtract_service import keys
from xtract_service.auth.base import LOCAL_OWNER, AuthRefused, Caller
from xtract_service.redis_client import maybe_text

OWNER_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def ensure_token_file(path: Path) -> str:
    """Read the local token, creating it (mode 0600) on first start."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LocalTokens:
    """The local token file plus tokens issued to other owners."""

    def __init__(self, token_file: Path, r: redis.Redis) -> None:
        self.token_file = token_file
        self.r = r
        self._local = ensure_token_file(token_file)
        self._stamp = self._mtime()

    def _mtime(self) -> float:
        try:
            return self.token_file.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def _current_local(self) -> str:
        # `xtract token rotate` may replace the file while the service runs
        stamp = self._mtime()
        if stamp != self._stamp:
            self._local, self._stamp = ensure_token_file(self.token_file), self._mtime()
        return self._local

    def owner_for(self, token: str) -> str | None:
        if self.known(token) is not None:
            return LOCAL_OWNER
        return maybe_text(self.r.hget(keys.ISSUED_TOKENS, _digest(token)))

    def known(self, token: str) -> Caller | None:
        """The local owner for the token file's token (one ``stat``: the file may have
        been rotated); None for any other token."""
        if hmac.compare_digest(token.encode(), self._current_local().encode()):
            return Caller(LOCAL_OWNER)
        return None

    def authenticate(self, token: str, accept: frozenset[str] = frozenset()) -> Caller:
        """The caller a token belongs to; :class:`AuthRefused` (401) if none."""
        owner = self.owner_for(token)
        if owner is None:
            raise AuthRefused(401, "invalid_token", "the token is not valid for this service")
        return Caller(owner)

    def service_tokens(self, caller: Caller, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Local tokens stand for no one at Globus: callers pass Globus tokens in."""
        return {}

    def groups_of(self, caller: Caller) -> set[str]:
        return set()

    def roots_for(self, caller: Caller) -> list[str] | None:
        raw = maybe_text(self.r.hget(keys.OWNER_ROOTS, caller.owner))
        return list(json.loads(raw)) if raw else None

    def issue(self, owner: str, roots: list[str] | None = None) -> str:
        """A new token for ``owner``; shown once, stored only as a hash. ``roots`` (each
        an existing absolute folder) become what this owner may reach."""
        if not OWNER_NAME.fullmatch(owner or "") or owner == LOCAL_OWNER:
            raise ValueError(
                f"owner name {owner!r} is reserved or not 1-64 letters, digits, '.', '_' or '-'"
            )
        canonical = []
        for root in roots or []:
            real = os.path.realpath(root)
            if not root.startswith("/") or not os.path.isdir(real):
                raise ValueError(f"root {root!r} is not an existing absolute folder")
            canonical.append(real)
        token = secrets.token_urlsafe(32)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(keys.ISSUED_TOKENS, _digest(token), owner)
        if canonical:
            pipe.hset(keys.OWNER_ROOTS, owner, json.dumps(canonical))
        pipe.execute()
        return token
