"""``compressed`` and ``archive``: what is inside compressed files and archives, read
in bounded pieces (a decompression bomb costs at most the limits, never a worker).

- ``compressed`` (``.gz``, ``.bz2``, ``.xz``, ``.zst``): the inner file's name and type
  (detected from its first decompressed bytes and its name), its size (counted by
  streaming, up to ``max_bytes``), the compression ratio, and, when the inner file is no
  larger than ``inner_max_bytes``, the metadata its own extractors find (a ``.csv.gz``
  gets a ``tabular`` profile, a ``.tar.gz`` a member list).
- ``archive`` (``.zip``, ``.tar`` and compressed tars): members (up to ``max_members``
  listed, all counted), their sizes and types, and totals; nothing is extracted.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import posixpath
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

from ..errors import error_kind
from ..registry import extractor, param
from ._common import need, step

_HEAD = 8192
_OPENERS = {
    "gzip": gzip.open,
    "bzip2": bz2.open,
    "xz": lzma.open,
}
_MAGIC = [
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
]
_SUFFIXES = {"gz": "gzip", "tgz": "gzip", "bz2": "bzip2", "xz": "xz", "zst": "zstd"}
MAX_DEPTH = 3  # a compressed file inside a compressed file ... is read this deep
_depth = 0


def _method(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(8)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    raise ValueError("not gzip, bzip2, xz or zstd data")


def _open(path: str, method: str) -> IO[bytes]:
    if method == "zstd":
        zstandard = need("zstandard", "archive")
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"))  # type: ignore[no-any-return]
    opener: Any = _OPENERS[method]
    return opener(path, "rb")  # type: ignore[no-any-return]


def _inner_name(path: str, method: str) -> str:
    """The inner file's name: gzip's stored name, else the name without its suffix."""
    name = posixpath.basename(path)
    if method == "gzip":
        with open(path, "rb") as f:
            head = f.read(1024)
        if len(head) > 10 and head[3] & 0x08:  # FNAME is set
            stored = head[10:].split(b"\x00", 1)[0]
            if stored and b"/" not in stored:
                return stored.decode("latin-1")
    stem, dot, ext = name.rpartition(".")
    if ext.lower() == "tgz":
        return stem + ".tar"
    return stem if dot and ext.lower() in _SUFFIXES else name


def _chunks(f: IO[bytes], limit: int) -> Iterator[bytes]:
    read = 0
    while read < limit:
        chunk = f.read(min(1 << 20, limit - read))
        if not chunk:
            return
        read += len(chunk)
        yield chunk


@extractor(
    "compressed",
    reads_name="name",  # the inner file's name comes from the outer one's
    kinds=["compressed"],
    extensions=["gz", "tgz", "bz2", "xz", "zst"],
    mimetypes=[
        "application/gzip",
        "application/x-gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/zstd",
    ],
    version="1.1",
    family="archive",
)
@param("max_bytes", int, default=1 << 30, low=1, high=1 << 40, desc="inner bytes counted at most")
@param(
    "inner_max_bytes",
    int,
    default=16 << 20,
    low=0,
    high=1 << 30,
    desc="inner files up to this size have their own metadata extracted",
)
def compressed(
    path: str, max_bytes: int = 1 << 30, inner_max_bytes: int = 16 << 20
) -> dict[str, Any]:
    """The inner file of a compressed file: name, type, size, and its own metadata."""
    from .. import select
    from .filetype import detect

    method = _method(path)
    name = _inner_name(path, method)
    size = 0
    keep = inner_max_bytes > 0
    with tempfile.TemporaryDirectory(prefix="xtract-inner-") as tmp:
        inner_path = os.path.join(tmp, name)
        head = b""
        with _open(path, method) as f, open(inner_path, "wb") as out:
            for chunk in _chunks(f, max_bytes + 1):
                if len(head) < _HEAD:
                    head += chunk[: _HEAD - len(head)]
                size += len(chunk)
                if keep and size <= inner_max_bytes:
                    out.write(chunk)
                elif keep:
                    keep = False
                    out.truncate(0)
        truncated = size > max_bytes
        kind = detect(head, True, name, describe=False)  # only its type is kept
        outer = os.path.getsize(path)
        result: dict[str, Any] = {
            "method": method,
            "inner_name": name,
            "inner_mimetype": kind["mimetype"],
            "inner_type_reason": kind.get("reason"),
            "inner_size": min(size, max_bytes),
            "inner_size_exact": not truncated,
            "ratio": round(min(size, max_bytes) / outer, 3) if outer else None,
        }
        if truncated:
            result["warnings"] = [f"more than {max_bytes} bytes inside; counted that far"]
        readers = select.readers_for(name, kind["mimetype"])
        result["inner_extractors"] = readers
        global _depth
        if keep and readers and _depth < MAX_DEPTH:
            _depth += 1
            try:
                result["inner_metadata"] = _read_with(readers, inner_path)
            finally:
                _depth -= 1
        elif keep and readers:
            result.setdefault("warnings", []).append(
                f"nested more than {MAX_DEPTH} deep: the innermost metadata is not read"
            )
        elif readers:
            result.setdefault("warnings", []).append(
                f"the inner file is over {inner_max_bytes} bytes: its metadata is not read"
            )
    return result


# -- archives -----------------------------------------------------------------------
def _member_type(name: str, head: bytes) -> str:
    from .filetype import detect

    return str(detect(head, True, name, describe=False)["mimetype"]) if head else "inode/x-empty"


def _named_type(m: dict[str, Any]) -> None:
    """A member whose bytes were not read is typed by its name (``type_from`` says so);
    ``application/octet-stream`` when the name says nothing."""
    from .filetype import by_extension

    if m["dir"] or "mimetype" in m:
        return
    if m["size"] == 0:
        m["mimetype"], m["type_from"] = "inode/x-empty", "size"
        return
    m["mimetype"] = by_extension(m["name"]) or "application/octet-stream"
    m["type_from"] = "name"


def _zip_members(path: str, max_members: int, typed: int) -> tuple[list[dict[str, Any]], int]:
    members: list[dict[str, Any]] = []
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        for i, info in enumerate(infos[:max_members]):
            m: dict[str, Any] = {
                "name": info.filename,
                "size": info.file_size,
                "compressed_size": info.compress_size,
                "dir": info.is_dir(),
            }
            if not info.is_dir() and i < typed and not info.flag_bits & 0x1:
                with z.open(info) as f:
                    m["mimetype"] = _member_type(info.filename, f.read(_HEAD))
            members.append(m)
        return members, len(infos)


def _tar_members(path: str, max_members: int, typed: int) -> tuple[list[dict[str, Any]], int]:
    members: list[dict[str, Any]] = []
    total = 0
    with tarfile.open(path, "r|*") as t:  # a stream: members are read in order, once
        for info in t:
            total += 1
            if total > max_members:
                continue
            m: dict[str, Any] = {"name": info.name, "size": info.size, "dir": info.isdir()}
            if info.isfile() and len(members) < typed:
                f = t.extractfile(info)
                if f is not None:
                    m["mimetype"] = _member_type(info.name, f.read(_HEAD))
            elif info.issym() or info.islnk():
                m["link"] = info.linkname
            members.append(m)
    return members, total


def _safe_name(member: str) -> str:
    """A member's base name, fit to be a file name in a folder of our own."""
    base = member.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1][-100:]
    return base if base not in ("", ".", "..") else "member"


def _inner_of(
    path: str, fmt: str, files: list[dict[str, Any]], types: int, limit: int
) -> dict[str, Any]:
    """The metadata of the first member of each type (at most ``types`` members, each at
    most ``limit`` bytes), read by the extractors their type calls for, as the
    ``compressed`` reader does for its inner file: ``{member name: {extractor: ...}}``."""
    from .. import select

    global _depth
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    for m in files:
        if m["mimetype"] not in seen and 0 < m["size"] <= limit and len(chosen) < types:
            seen.add(m["mimetype"])
            chosen.append(m)
    readers = {m["name"]: select.readers_for(m["name"], m["mimetype"]) for m in chosen}
    chosen = [m for m in chosen if readers[m["name"]]]
    if not chosen or _depth >= MAX_DEPTH:
        return {}
    out: dict[str, Any] = {}
    _depth += 1
    try:
        with tempfile.TemporaryDirectory(prefix="xtract-members-") as tmp:
            targets = {}
            for i, m in enumerate(chosen):
                targets[m["name"]] = os.path.join(tmp, str(i), _safe_name(m["name"]))
                os.mkdir(os.path.dirname(targets[m["name"]]), 0o700)
            _write_members(path, fmt, targets, limit)
            for name, target in targets.items():
                out[name] = _read_with(readers[name], target)
    finally:
        _depth -= 1
    return out


def _write_members(path: str, fmt: str, targets: dict[str, str], limit: int) -> None:
    """Each named member's first ``limit`` bytes to its target, in one pass over the
    archive (a .tar.gz is inflated once)."""
    if fmt == "zip":
        with zipfile.ZipFile(path) as z:
            for name, target in targets.items():
                with z.open(name) as f, open(target, "xb") as out:
                    out.write(f.read(limit))
        return
    with tarfile.open(path, "r|*") as t:
        for info in t:
            member = t.extractfile(info) if info.name in targets else None
            if member is not None:
                with open(targets[info.name], "xb") as out:
                    out.write(member.read(limit))


def _read_with(readers: list[str], path: str) -> dict[str, Any]:
    """What each of ``readers`` finds in an inner file; one failing is recorded."""
    from ..registry import get

    found: dict[str, Any] = {}
    for reader in readers:
        try:
            found[reader] = get(reader).fn(path)
        except Exception as exc:  # an inner reader failing is recorded, not fatal
            found[reader] = {"error": error_kind(exc), "message": str(exc)[:500]}
    return found


@extractor(
    "archive",
    kinds=["archive"],
    extensions=["zip", "whl", "jar", "tar"],
    mimetypes=["application/zip", "application/x-tar", "application/java-archive"],
    version="1.2",
    family="archive",
)
@param("max_members", int, default=1000, low=1, high=100_000, desc="members listed")
@param("typed_members", int, default=200, low=0, high=10_000, desc="members whose type is read")
@param("sampled_types", int, default=8, low=0, high=100, desc="types whose first member is read")
@param("member_max_bytes", int, default=16 << 20, low=0, high=256 << 20, desc="largest member read")
def archive(
    path: str,
    max_members: int = 1000,
    typed_members: int = 200,
    sampled_types: int = 8,
    member_max_bytes: int = 16 << 20,
) -> dict[str, Any]:
    """An archive's members, sizes and types: the first ``typed_members`` typed from
    their bytes, the rest from their names (each member's ``type_from`` says which); and
    the metadata of the first member of each of up to ``sampled_types`` types
    (``member_metadata``), read in a folder of our own, never under its own path."""
    if zipfile.is_zipfile(path):
        fmt = "zip"
        members, total = _zip_members(path, max_members, typed_members)
    else:
        fmt = "tar"
        try:
            members, total = _tar_members(path, max_members, typed_members)
        except tarfile.TarError as exc:
            raise ValueError(f"not a zip or tar archive ({exc})") from None
    for m in members:
        if "mimetype" in m:
            m["type_from"] = "bytes"
        else:
            _named_type(m)
    files = [m for m in members if not m["dir"]]
    out: dict[str, Any] = {
        "format": fmt,
        "members": members,
        "member_count": total,
        "listed": len(members),
        "files": len(files),
        "total_size": sum(m["size"] for m in files),
        "types": dict(Counter(m["mimetype"] for m in files).most_common(20)),
        "typed_by_bytes": sum(1 for m in files if m["type_from"] == "bytes"),
    }
    if fmt == "zip":
        packed = sum(m.get("compressed_size", 0) for m in files)
        out["ratio"] = round(out["total_size"] / packed, 3) if packed else None
    if sampled_types:
        inner = step(
            out, "member_metadata", _inner_of, path, fmt, files, sampled_types, member_max_bytes
        )
        if inner:
            out["member_metadata"] = inner
    if total > len(members):
        out["warnings"] = [f"{total} members; the first {len(members)} are listed"]
    return out
