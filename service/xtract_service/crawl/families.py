"""How families are stored on the families stream, and how they are read back.

Per-file Python work while crawling is kept near zero: a listed directory becomes one
compact *block*::

    {"dir": "/data/run1", "id": "3f9c...", "base": 0,
     "files": [[name, size, mtime], ...],            # a 4th item: raw name, base64
     "families": "per_file" | [[[file indices], extractor], ...] per family,
     "prior": [earlier family id or null, ...]}       # a ``since`` crawl's blocks only

``"per_file"`` (what ``file_is_group`` returns) means one family per file, read by the
extractor its extension names. A stream entry holds a JSON list of blocks with about a
thousand files in all. :func:`expand` turns a block into the documented family shape::

    {"family_id", "files": [{path, size, extension, mtime}],
     "groups": [{"group_id", "files": [paths], "kind", "extractor"}]}

Family ids are ``{block id}.{index}``, stable however often a block is read. In a
``since`` crawl, a family whose files are all unchanged, and were one family before,
carries that family's id as ``prior``: its extraction takes the earlier document.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from typing import Any, NotRequired, TypedDict

import orjson

from xtract_extractors.kinds import extractor_for_extension, kind_of_extension

try:
    from xtract_service.crawl import _records  # type: ignore[attr-defined]

    RENDERER: Any = _records  # flushed records rendered in C
except ImportError:  # built without a C compiler: records are rendered by orjson
    RENDERER = None

PER_FILE = "per_file"

FileEntry = list[Any]  # [name, size, mtime] or [name, size, mtime, raw_name_b64]
Group = list[Any]  # [[file indices], extractor or None]
Block = dict[str, Any]


class FileRecord(TypedDict):
    """One file as a listing found it (``path_b64``: the raw bytes of a path that is not
    UTF-8; ``family_id`` when flushed)."""

    path: str
    size: int
    extension: str
    mtime: float
    path_b64: NotRequired[str]
    family_id: NotRequired[str]


class GroupRecord(TypedDict):
    """Files one extractor reads together."""

    group_id: str
    files: list[str]
    kind: str
    extractor: str | None  # the crawl's guess; in a document, what ran (documents.labelled)
    extractors: NotRequired[list[str]]  # in a document: every extractor that read them


class Family(TypedDict):
    """Files that travel together to one worker, with their groups (``prior``: the
    family id an earlier crawl gave exactly these unchanged files)."""

    family_id: str
    files: list[FileRecord]
    groups: list[GroupRecord]
    prior: NotRequired[str]


def extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if dot > 0 else ""


def normalize(families: Any, n_files: int) -> Any:
    """Make a grouper's answer a partition of the files: each file in exactly one
    family (the first that names it); files no family names get a family each."""
    if families == PER_FILE:
        return PER_FILE
    seen: set[int] = set()
    out = []
    for fam in families:
        groups = [[list(idx), extractor] for idx, extractor in fam]
        owned = [i for g in groups for i in g[0] if 0 <= i < n_files and i not in seen]
        if owned:
            seen.update(owned)
            out.append(groups)
    for i in range(n_files):
        if i not in seen:
            out.append([[[i], None]])
    return out


def make_blocks(
    directory: str, files: list[FileEntry], families: Any, per_entry: int
) -> list[Block]:
    """One directory's listing as blocks; a huge per-file directory is cut into several."""
    block_id = uuid.uuid4().hex[:16]
    if families != PER_FILE:
        return [{"dir": directory, "id": block_id, "base": 0, "files": files, "families": families}]
    return [
        {
            "dir": directory,
            "id": block_id,
            "base": i,
            "files": files[i : i + per_entry],
            "families": PER_FILE,
        }
        for i in range(0, max(len(files), 1), per_entry)
        if files[i : i + per_entry]
    ]


def family_refs(block: Block) -> list[Any]:
    """The family id of each file of a block, compactly: ``[block id, base, files]`` for
    one family per file (ids ``{block id}.{base + i}``), else ``[block id, [family
    index of each file]]``. :func:`ids_of_refs` spells them out."""
    bid, n = block["id"], len(block["files"])
    if block["families"] == PER_FILE:
        return [bid, block["base"], n]
    out = [-1] * n
    for i, fam in enumerate(block["families"]):
        for idx, _ in fam:
            for j in idx:
                if out[j] < 0:
                    out[j] = i
    return [bid, out]


def ids_of_refs(refs: list[list[Any]]) -> list[str]:
    """The family ids of :func:`family_refs`' answers, one per file, in order."""
    out: list[str] = []
    for ref in refs:
        if len(ref) == 3:
            bid, base, n = ref
            out += [f"{bid}.{base + i}" for i in range(n)]
        else:
            out += [f"{ref[0]}.{i}" for i in ref[1]]
    return out


def _prior(block: Block, owned: list[int]) -> str | None:
    """The earlier family id of files ``owned`` if all are unchanged and were one family."""
    prior = block.get("prior")
    if not prior:
        return None
    ids = {prior[j] for j in owned}
    return ids.pop() if len(ids) == 1 and None not in ids else None


def counts(block: Block) -> tuple[int, int, int]:
    """(files, families, groups) in a block."""
    n = len(block["files"])
    fams = block["families"]
    if fams == PER_FILE:
        return n, n, n
    return n, len(fams), sum(len(f) for f in fams)


def pack(blocks: list[Block], per_entry: int) -> list[tuple[bytes, int]]:
    """Blocks packed into stream payloads of about ``per_entry`` files: (json, files).
    orjson, not json: this runs once per listed file, and orjson writes the same JSON
    (floats round-trip alike) about 30 times faster."""
    out: list[tuple[bytes, int]] = []
    batch: list[Block] = []
    n = 0
    for b in blocks:
        batch.append(b)
        n += len(b["files"])
        if n >= per_entry:
            out.append((orjson.dumps(batch), n))
            batch, n = [], 0
    if batch:
        out.append((orjson.dumps(batch), n))
    return out


def _record(directory: str, entry: FileEntry) -> FileRecord:
    name = entry[0]
    sep = "" if directory.endswith("/") else "/"
    rec: FileRecord = {
        "path": f"{directory}{sep}{name}",
        "size": entry[1],
        "extension": extension(name),
        "mtime": entry[2],
    }
    if len(entry) > 3:  # the name is not UTF-8: give the raw bytes of the whole path
        raw = os.fsencode(directory) + sep.encode() + base64.b64decode(entry[3])
        rec["path_b64"] = base64.b64encode(raw).decode()
    return rec


def _group(gid: str, records: list[FileRecord], idx: list[int], extractor: Any) -> GroupRecord:
    exts = {records[i]["extension"] for i in idx}
    kind = kind_of_extension(next(iter(exts))) if len(exts) == 1 else "mixed"
    return {
        "group_id": gid,
        "files": [records[i]["path"] for i in idx],
        "kind": kind,
        "extractor": extractor,
    }


def expand(block: Block) -> Iterator[Family]:
    """The block's families in the documented shape, in stream order."""
    d, bid, base = block["dir"], block["id"], block["base"]
    records = [_record(d, e) for e in block["files"]]
    if block["families"] == PER_FILE:
        for i, rec in enumerate(records):
            fid = f"{bid}.{base + i}"
            ext = rec["extension"]
            family: Family = {
                "family_id": fid,
                "files": [rec],
                "groups": [
                    {
                        "group_id": f"{fid}.0",
                        "files": [rec["path"]],
                        "kind": kind_of_extension(ext),
                        "extractor": extractor_for_extension(ext),
                    }
                ],
            }
            prior = _prior(block, [i])
            if prior:
                family["prior"] = prior
            yield family
        return
    seen: set[int] = set()
    for i, fam in enumerate(block["families"]):
        fid = f"{bid}.{i}"
        owned = []
        for idx, _ in fam:
            for j in idx:
                if j not in seen:
                    seen.add(j)
                    owned.append(j)
        family = {
            "family_id": fid,
            "files": [records[j] for j in owned],
            "groups": [_group(f"{fid}.{k}", records, idx, ex) for k, (idx, ex) in enumerate(fam)],
        }
        prior = _prior(block, owned)
        if prior:
            family["prior"] = prior
        yield family


def families_of(payload: bytes | str) -> Iterator[Family]:
    """Every family in one stream entry's payload."""
    for block in orjson.loads(payload):
        yield from expand(block)


def block_files(block: Block) -> list[FileRecord]:
    """A block's file records in its families' order, each with its ``family_id``: what
    a flush hands out."""
    if block["families"] != PER_FILE:
        return [
            {**rec, "family_id": family["family_id"]}
            for family in expand(block)
            for rec in family["files"]
        ]
    d, bid = block["dir"], block["id"]
    prefix = d if d.endswith("/") else d + "/"
    out: list[FileRecord] = []
    for i, entry in enumerate(block["files"], block["base"]):  # _record inlined: the cost
        name = entry[0]
        dot = name.rfind(".")
        rec: FileRecord = {
            "path": prefix + name,
            "size": entry[1],
            "extension": name[dot + 1 :].lower() if dot > 0 else "",
            "mtime": entry[2],
        }
        if len(entry) > 3:
            rec = _record(d, entry)
        rec["family_id"] = f"{bid}.{i}"
        out.append(rec)
    return out


def rendered_files(payload: bytes | str, lo: int, hi: int) -> tuple[bytes, int]:
    """File records ``lo`` to ``hi`` of one stream entry (:func:`block_files` of each
    of its blocks, in order), rendered as JSON objects joined by commas, and how many:
    what a flush hands out, a page of thousands at a time, with no Python object per
    record where ``_records`` (C) is built. A block it declines (a grouped one, a name
    that is not UTF-8, ...) and every block without it are rendered from
    :func:`block_files` by orjson: the same values either way."""
    parts: list[bytes] = []
    at = taken = 0
    for block in orjson.loads(payload):
        if at >= hi:
            break
        count = len(block["files"])  # a partition: every file once, grouped or not
        a, b = max(lo - at, 0), min(hi - at, count)
        at += count
        if a >= b:
            continue
        part = None
        if RENDERER is not None and block["families"] == PER_FILE:
            d = block["dir"]
            prefix = d if d.endswith("/") else d + "/"
            entries = orjson.dumps(block["files"][a:b])  # names escaped, numbers written
            part = RENDERER.render(prefix, entries, block["id"], block["base"] + a)
        if part is None:
            part = orjson.dumps(block_files(block)[a:b])[1:-1]
        parts.append(part)
        taken += b - a
    return b",".join(parts), taken
