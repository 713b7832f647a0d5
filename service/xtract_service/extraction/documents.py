"""Metadata documents on disk: one ``{family_id}.json`` per family under the run's
``local_mdata_path``, written whole or not at all (before they are recorded in Redis,
so a recorded document is always on disk)."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from xtract_extractors.safepath import Roots, opened, remove_partials, write_files
from xtract_service.crawl.families import Family, FileRecord, GroupRecord


class Document(TypedDict, total=False):
    """One family's metadata document."""

    family_id: str
    crawl_id: str
    executor: str
    extracted_at: float
    files: list[FileRecord]
    groups: list[GroupRecord]
    metadata: dict[str, Any]
    errors: list[dict[str, Any]]
    extractors: dict[str, Any]
    unknown: list[str]
    carried_from: str  # the crawl whose document this is, carried forward unread


def write_documents(root: str, out_dir: str, docs: list[Document]) -> None:
    """One ``{family_id}.json`` per family (0600) in ``out_dir`` (made 0700 if need be),
    opened beneath ``root``; all made durable together (:func:`write_files`)."""
    with opened(Roots([root]).open_dir(out_dir, create=True)) as folder:
        write_files(folder, [(f"{d['family_id']}.json", _json(d)) for d in docs])


def _json(doc: Document) -> bytes:
    # the json module, as the documents recorded in Redis: numpy's floats stay numbers
    return json.dumps(doc, separators=(",", ":"), default=str).encode()


def remove_leftovers(root: str, out_dir: str) -> None:
    """Delete what a writer killed midway left in ``out_dir`` (once, as a run starts)."""
    try:
        with opened(Roots([root]).open_dir(out_dir)) as folder:
            remove_partials(folder)
    except FileNotFoundError:
        pass  # nothing written there yet


def failed_document(family: Family, reason: str) -> Document:
    """The document of a family the executor could not run: an error record per file."""
    paths = list(dict.fromkeys([r["path"] for r in family["files"]]))
    errors = [{"path": p, "extractor": "*", "error": "executor", "message": reason} for p in paths]
    return {
        "family_id": family["family_id"],
        "files": family["files"],
        "groups": family.get("groups", []),
        "metadata": {},
        "errors": errors,
        "extractors": {},
        "unknown": [],
    }
