"""Groupers: how the files of one directory become families.

A grouper receives the files of one listed directory and returns families::

    {"family_id": str, "files": [file records],
     "groups": [{"group_id": str, "files": [paths], "kind": str, "extractor": str | None}]}

A new grouper is one decorated function::

    @grouper("by_prefix")
    def by_prefix(directory: str, files: list[FileRecord]) -> list[Family]:
        ...

Third-party packages add groupers through the ``xtract.groupers`` entry-point group.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from xtract_extractors.kinds import extractor_for, kind_of

log = logging.getLogger(__name__)

FileRecord = dict[str, Any]  # {path, size, extension, mtime}
Family = dict[str, Any]
Grouper = Callable[[str, list[FileRecord]], list[Family]]

GROUPERS: dict[str, Grouper] = {}


def grouper(name: str) -> Callable[[Grouper], Grouper]:
    """Register ``fn`` as the grouper called ``name``."""

    def register(fn: Grouper) -> Grouper:
        GROUPERS[name] = fn
        return fn

    return register


def _new_id() -> str:
    return uuid.uuid4().hex


def _group(paths: list[str], kind: str, extractor: str | None) -> dict[str, Any]:
    return {"group_id": _new_id(), "files": paths, "kind": kind, "extractor": extractor}


def _single_file_group(record: FileRecord) -> dict[str, Any]:
    path = record["path"]
    return _group([path], kind_of(path), extractor_for(path))


@grouper("file_is_group")
def file_is_group(directory: str, files: list[FileRecord]) -> list[Family]:
    """One family per file, with one group read by the file's extractor."""
    return [
        {"family_id": _new_id(), "files": [f], "groups": [_single_file_group(f)]} for f in files
    ]


@grouper("directory")
def directory(directory: str, files: list[FileRecord]) -> list[Family]:
    """One family per directory: its files travel together, one group per file."""
    if not files:
        return []
    return [
        {"family_id": _new_id(), "files": files, "groups": [_single_file_group(f) for f in files]}
    ]


@grouper("extension")
def extension(directory: str, files: list[FileRecord]) -> list[Family]:
    """Per directory, one family per file kind (tabular, text, image, ...)."""
    by_kind: dict[str, list[FileRecord]] = {}
    for f in files:
        by_kind.setdefault(kind_of(f["path"]), []).append(f)
    return [
        {
            "family_id": _new_id(),
            "files": members,
            "groups": [_single_file_group(f) for f in members],
        }
        for members in by_kind.values()
    ]


def _load_plugins() -> None:
    for ep in entry_points(group="xtract.groupers"):
        try:
            ep.load()  # the module registers itself with @grouper
        except Exception as exc:  # a broken plug-in must not stop the service
            log.warning("grouper plug-in %s failed to load: %s", ep.name, exc)


_load_plugins()
