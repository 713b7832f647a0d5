"""Secrets at rest: the Globus tokens a run needs and the webhook signing secrets are
kept in Redis (and so in its append-only file) only encrypted, with a key that lives in
``XTRACT_HOME/secret.key`` (mode 0600, made on first use). Workers on other hosts that
share the Redis need the same key file (``XTRACT_SECRET_KEY_FILE``).

Tokens are deleted when the run that needs them ends; nothing here is ever logged.

>>> vault = Vault(Path("/tmp/x/secret.key"))        # doctest: +SKIP
>>> vault.open(vault.seal("token")) == "token"      # doctest: +SKIP
True
"""

from __future__ import annotations

import contextlib
import os
import time
from functools import cached_property
from pathlib import Path
from typing import Any


class VaultError(RuntimeError):
    """A sealed secret that this key cannot open (another key, or tampered)."""


class Vault:
    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file

    @cached_property
    def _fernet(self) -> Any:
        # made on first use: a process that never meets a secret never loads the library
        from cryptography.fernet import Fernet

        self.key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.key_file.exists():
            self._publish(Fernet.generate_key())
        return Fernet(self._read_key())

    def _publish(self, key: bytes) -> None:
        """Write ``key`` to a file of its own, then link it to the key file's name: the
        key file appears whole or not at all, and the first of several processes
        starting at once (``--api-workers``, roles) wins; the others read its key."""
        tmp = self.key_file.with_name(f".{self.key_file.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(key)
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, self.key_file)
        finally:
            tmp.unlink(missing_ok=True)

    def _read_key(self) -> bytes:
        """The key file's key, waiting up to 5 s while it is empty: an older service's
        key file was made empty first and written after, which another process
        starting then could read in between."""
        deadline = time.monotonic() + 5
        while not (key := self.key_file.read_bytes().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return key

    def ensure_key(self) -> None:
        """Make the key file now (the service does, before any worker starts)."""
        self._fernet.encrypt(b"")  # the key is read (and made if missing) on first use

    def seal(self, secret: str) -> str:
        token: bytes = self._fernet.encrypt(secret.encode())
        return token.decode()

    def open(self, sealed: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            plain: bytes = self._fernet.decrypt(sealed.encode())
            return plain.decode()
        except InvalidToken:
            raise VaultError(
                f"a stored secret cannot be opened with {self.key_file}; "
                "workers need the service's key file"
            ) from None

    def seal_all(self, secrets: dict[str, str]) -> dict[str, str]:
        return {k: self.seal(v) for k, v in secrets.items()}

    def open_all(self, sealed: dict[str, str]) -> dict[str, str]:
        return {k: self.open(v) for k, v in sealed.items()}


def sealed(vault: Vault | None, secrets: dict[str, str]) -> dict[str, str]:
    """``secrets`` sealed for storing; a store without a vault may store none."""
    if not secrets:
        return {}
    if vault is None:
        raise VaultError("secrets can only be stored through a vault")
    return vault.seal_all(secrets)


def opened_secrets(vault: Vault | None, stored: dict[str, str]) -> dict[str, str]:
    if not stored:
        return {}
    if vault is None:
        raise VaultError("secrets can only be read through a vault")
    return vault.open_all(stored)
