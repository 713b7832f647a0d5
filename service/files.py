"""Durable writes: a file that exists under its final name is complete.

Every file the service writes for a caller (metadata documents, export parts,
manifests, copies of them) goes through here: written to a temporary name beside the
target, fsynced, renamed over the target, and (unless told otherwise) the folder fsynced
so the rename itself survives a crash.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def durable_write(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Write ``data`` to ``path`` whole or not at all."""
    tmp = _temporary(path)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    _commit(tmp, path, sync_folder)


def durable_copy(source: Path, path: Path, *, sync_folder: bool = True) -> None:
    """Copy ``source`` to ``path`` whole or not at all."""
    tmp = _temporary(path)
    shutil.copyfile(source, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    _commit(tmp, path, sync_folder)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the renames made in it are on disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary(path: Path) -> Path:
    return path.with_name(f"{path.name}.partial{os.getpid()}")


def _commit(tmp: Path, path: Path, sync: bool) -> None:
    os.replace(tmp, path)
    if sync:
        sync_folder(path.parent)
