"""Where the service may read and write on this machine."""

from __future__ import annotations

import os
from pathlib import Path

from xtract_service.settings import Settings


def within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (both already canonical)."""
    root = root.rstrip("/") or "/"
    return root == "/" or path == root or path.startswith(root + "/")


def output_folder(path: str, name: str, settings: Settings) -> str:
    """The canonical form of a folder the service is asked to write to, which must be
    inside the allowed roots or the service's home; ValueError names ``name``."""
    if not path.startswith("/"):
        raise ValueError(f"{name} {path!r} must be an absolute path")
    real = os.path.realpath(path)
    roots = [*settings.allowed_roots, Path(os.path.realpath(settings.home))]
    if not any(within(real, str(r)) for r in roots):
        raise ValueError(f"{name} {path!r} is outside the allowed roots and {settings.home}")
    return real
