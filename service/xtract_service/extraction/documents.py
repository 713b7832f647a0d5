"""Metadata documents on disk: one ``{family_id}.json`` per family under the run's
``local_mdata_path``, written whole or not at all (before they are recorded in Redis,
so a recorded document is always on disk)."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from xtract_extractors import registry
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


def labelled(groups: list[Any], metadata: dict[str, Any]) -> list[Any]:
    """The crawl's groups, labelled with what ran on their files: ``extractors`` every
    extractor that wrote metadata for them (``filetype`` aside), ``extractor`` the first
    of those, and ``kind`` what that extractor reads. A group nothing read keeps the
    crawl's guess from its extension."""
    out = []
    for group in groups:
        ran = sorted(
            {name for p in group["files"] for name in metadata.get(p, {}) if name != "filetype"}
        )
        if not ran:
            out.append(group)
            continue
        first = group.get("extractor") if group.get("extractor") in ran else ran[0]
        try:
            kinds = registry.get(first).kinds
        except LookupError:
            kinds = ()
        kind = group.get("kind") if group.get("kind") in kinds else (kinds[0] if kinds else None)
        label = {"extractor": first, "kind": kind or group.get("kind"), "extractors": ran}
        out.append({**group, **label})
    return out


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


def checked_remote(docs: Any, families: list[Family]) -> list[Document]:
    """The documents an executor outside this process answered (a Compute endpoint the
    caller chose, a Parsl worker), if they are documents of exactly these families:
    one each, in order, about the family's own paths only, every field of its type.
    ValueError says what is wrong (the batch then fails with that reason). The
    family's files and groups are taken from the crawl, never from the answer."""
    if not isinstance(docs, list) or len(docs) != len(families):
        raise ValueError("the executor's answer is not one document per family")
    return [_checked(doc, fam) for doc, fam in zip(docs, families, strict=True)]


def _checked(doc: Any, fam: Family) -> Document:
    fid = fam["family_id"]
    if not isinstance(doc, dict) or doc.get("family_id") != fid:
        raise ValueError(f"the executor answered for another family than {fid}")
    paths = {r["path"] for r in fam["files"]} | {
        p for g in fam.get("groups", []) for p in g["files"]
    }
    md, errors = doc.get("metadata"), doc.get("errors")
    summary, unknown = doc.get("extractors"), doc.get("unknown")
    if not isinstance(md, dict) or not set(md) <= paths:
        raise ValueError(f"family {fid}: metadata of paths that are not its own")
    if not all(isinstance(v, dict) for v in md.values()):
        raise ValueError(f"family {fid}: metadata that is not a mapping")
    if not isinstance(errors, list) or not all(
        isinstance(e, dict) and e.get("path") in paths for e in errors
    ):
        raise ValueError(f"family {fid}: error records of paths that are not its own")
    if not isinstance(unknown, list) or not set(unknown) <= paths:
        raise ValueError(f"family {fid}: unknown files that are not its own")
    if not isinstance(summary, dict) or not all(_summary(s) for s in summary.values()):
        raise ValueError(f"family {fid}: an extractor summary that is not one")
    return {**doc, "files": fam["files"], "groups": fam.get("groups", [])}  # type: ignore[typeddict-item]


def _summary(s: Any) -> bool:
    """``{state, files, seconds, errors, reused?}`` as :func:`extract_batch` writes it."""
    counts = ("files", "errors", "reused")
    return (
        isinstance(s, dict)
        and s.get("state") in ("success", "failed")
        and isinstance(s.get("seconds"), int | float)
        and all(isinstance(s.get(k, 0), int) and not isinstance(s.get(k, 0), bool) for k in counts)
    )
