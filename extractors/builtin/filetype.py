"""``filetype``: what a file is from its bytes (libmagic, else puremagic), and a content
hash. It runs on every file, so a file with a misleading name still reaches the right
extractor, and a file no extractor understands is flagged unknown."""

from __future__ import annotations

import hashlib
from typing import Any

from ..registry import extractor, param

_HEAD = 8192


def _libmagic(head: bytes) -> tuple[str, str] | None:
    try:
        import magic
    except ImportError:  # libmagic or python-magic missing on this machine
        return None
    try:
        return magic.from_buffer(head, mime=True), magic.from_buffer(head)
    except Exception:
        return None


def _puremagic(head: bytes) -> tuple[str, str] | None:
    try:
        import puremagic
    except ImportError:
        return None
    try:
        match = puremagic.magic_string(head)
    except Exception:
        return None
    if not match:
        return None
    best = match[0]
    return best.mime_type or "application/octet-stream", best.name


def detect(head: bytes, use_libmagic: bool = True) -> dict[str, str]:
    """``{mimetype, description, detected_by}`` for the first bytes of a file."""
    if not head:
        return {"mimetype": "inode/x-empty", "description": "empty", "detected_by": "size"}
    found = _libmagic(head) if use_libmagic else None
    by = "libmagic"
    if found is None:
        found, by = _puremagic(head), "puremagic"
    if found is None:
        text = _looks_like_text(head)
        found = ("text/plain", "text") if text else ("application/octet-stream", "data")
        by = "heuristic"
    return {"mimetype": found[0], "description": found[1], "detected_by": by}


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3


@extractor(
    "filetype",
    kinds=["*"],
    version="1.0",
    description="MIME type from the bytes and a content hash; runs on every file.",
)
@param("hash", bool, default=True, desc="compute a content hash")
@param(
    "algorithm",
    str,
    default="sha256",
    choices=sorted(hashlib.algorithms_guaranteed - {"shake_128", "shake_256"}),
    desc="hashlib algorithm for the content hash",
)
@param("use_libmagic", bool, default=True, desc="use libmagic when installed")
def filetype(
    path: str, hash: bool = True, algorithm: str = "sha256", use_libmagic: bool = True
) -> dict[str, Any]:
    """Detect the type of a file from its bytes, and hash its content."""
    from .. import select

    digest = hashlib.new(algorithm) if hash else None
    size = 0
    with open(path, "rb") as f:
        head = f.read(_HEAD)
        size = len(head)
        if digest is not None:
            digest.update(head)
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        else:
            f.seek(0, 2)
            size = f.tell()
    out: dict[str, Any] = {**detect(head, use_libmagic), "size": size}
    if digest is not None:
        out[algorithm] = digest.hexdigest()
    readers = select.readers_for(path, out["mimetype"])
    out["extractors"] = readers
    out["unknown"] = not readers
    if size == 0:
        out["warnings"] = ["the file is empty"]
    return out
