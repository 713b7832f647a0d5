"""Who may reach what on this machine: each owner's roots, and the service's own home,
which no caller ever reaches.

An owner's roots are, in order: those given when their token was issued
(``xtract token issue NAME --root /data``); else ``XTRACT_ALLOWED_ROOTS`` if set; else
their home folder (the service user's for the local token, ``~NAME`` for an issued
token, if that folder exists). ``XTRACT_HOME`` (the token, Redis data, staging) is cut
out of every root, so the API can neither read nor write it.

Paths are checked here when a request arrives (a clear 400), and opened later through
:mod:`xtract_extractors.safepath` beneath the root found here, so a folder swapped for
a link after the check leads nowhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from xtract_extractors.safepath import Roots, UnsafePath, normal, within
from xtract_service.errors import BadRequest
from xtract_service.settings import Settings


@dataclass(frozen=True)
class Access:
    """What one owner may read and write: ``roots``, never inside ``home``."""

    owner: str
    roots: tuple[str, ...]
    home: str

    def check(self, path: str, name: str) -> tuple[str, str]:
        """``(canonical path, the root holding it)`` for a folder the caller named;
        BadRequest (naming ``name``) if it is outside the roots or in the service's
        home."""
        try:
            real = os.path.realpath(normal(path))
        except UnsafePath as exc:
            raise BadRequest(f"{name}: {exc}", "bad_path") from None
        if within(real, self.home):
            raise BadRequest(f"{name} {path!r} is inside the service's own home", "bad_path")
        root = Roots(self.roots).root_of(real)
        if root is None:
            raise BadRequest(
                f"{name} {path!r} is outside the allowed roots ({', '.join(self.roots)}); "
                "set XTRACT_ALLOWED_ROOTS or issue the token with --root to reach it",
                "bad_path",
            )
        return real, root


def default_roots(settings: Settings, owner: str, local_owner: str) -> list[str]:
    """The roots of an owner whose token names none (see the module doc)."""
    if settings.allowed_roots is not None:
        return [str(r) for r in settings.allowed_roots]
    home = Path.home() if owner == local_owner else Path(os.path.expanduser(f"~{owner}"))
    return [os.path.realpath(home)] if home.is_absolute() and home.is_dir() else []


def access_for(settings: Settings, owner: str, roots: list[str]) -> Access:
    return Access(owner, tuple(os.path.realpath(r) for r in roots), service_home(settings))


def service_home(settings: Settings) -> str:
    return os.path.realpath(settings.home)


def own_folder(settings: Settings, *parts: str) -> tuple[str, str]:
    """A folder of the service's own under its home (``metadata``, ``exports``,
    ``offloads``): ``(path, root)`` with the root being that folder's top, which is
    made (0700) if it is missing."""
    top = os.path.join(service_home(settings), parts[0])
    os.makedirs(top, mode=0o700, exist_ok=True)
    return os.path.join(top, *parts[1:]), top
