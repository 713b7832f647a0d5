"""``filetype``: what a file is, from its bytes and its name, and a content hash. It runs
on every file, so a file with a misleading name still reaches the right extractor, and a
file no extractor understands is flagged unknown.

Detection is tiered, and the record says which evidence decided (``detected_by``) and
why (``reason``): libmagic (else puremagic) reads the bytes; the extension names a type
too. A specific answer from the bytes wins over the name (a PNG called ``.csv`` is an
image); libmagic's generic answers (``text/plain``, ``application/octet-stream``) and its
guesses at a programming language for plain text (``.md`` called JavaScript) are
overruled by an extension that names a text format; with no answer from the bytes, the
extension decides, then a text heuristic.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from ..registry import extractor, param

_HEAD = 8192


def _libmagic(head: bytes, describe: bool = True) -> tuple[str, str] | None:
    """libmagic's mime type and description (a second pass over the bytes, about as
    costly as the first: ``describe=False`` gives the mime type in its place)."""
    try:
        import magic
    except ImportError:  # libmagic or python-magic missing on this machine
        return None
    try:
        mime = magic.from_buffer(head, mime=True)
        return mime, magic.from_buffer(head) if describe else mime
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


# what an extension says a file is (Python's table fills in the rest)
_BY_EXTENSION = {
    "class": "application/x-java-applet",  # what libmagic calls a Java class file
    "toml": "application/toml",
    "npy": "application/x-npy",  # libmagic: data
    "ini": "text/x-ini",
    "cfg": "text/x-ini",
    "desktop": "text/x-ini",
    "pyi": "text/x-python",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "tab": "text/tab-separated-values",
    "json": "application/json",
    "geojson": "application/geo+json",
    "ipynb": "application/x-ipynb+json",
    "xml": "application/xml",
    "html": "text/html",
    "htm": "text/html",
    "xhtml": "application/xhtml+xml",
    "svg": "image/svg+xml",
    "py": "text/x-python",
    "c": "text/x-c",
    "h": "text/x-c",
    "rst": "text/x-rst",
    "txt": "text/plain",
    "yaml": "application/yaml",
    "yml": "application/yaml",
    "h5": "application/x-hdf5",
    "hdf5": "application/x-hdf5",
    "nc": "application/x-netcdf",
    "gz": "application/gzip",
    "tgz": "application/gzip",
    "bz2": "application/x-bzip2",
    "xz": "application/x-xz",
    "zst": "application/zstd",
    "zip": "application/zip",
    "whl": "application/zip",
    "tar": "application/x-tar",
    # research formats libmagic knows only as "data" (issue 23)
    "parquet": "application/vnd.apache.parquet",
    "feather": "application/vnd.apache.arrow.file",
    "arrow": "application/vnd.apache.arrow.file",
    "orc": "application/vnd.apache.orc",
    "sav": "application/x-spss-sav",
    "zsav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
    "sas7bdat": "application/x-sas-data",
    "xpt": "application/x-sas-xport",
    "nii": "image/x.nifti",
    "fits": "image/fits",
    "fit": "image/fits",
    "fts": "image/fits",
    "dcm": "application/dicom",
    "mat": "application/x-matlab-data",
    "fa": "text/x-fasta",
    "fasta": "text/x-fasta",
    "fna": "text/x-fasta",
    "faa": "text/x-fasta",
    "fq": "text/x-fastq",
    "fastq": "text/x-fastq",
    "vcf": "text/x-vcf",
    "sam": "text/x-sam",
    "cif": "chemical/x-cif",  # Magika: CSV
    "xyz": "chemical/x-xyz",
}
# libmagic answers that say little: any extension naming a format knows more
_GENERIC = frozenset({"application/octet-stream", "text/plain", "application/x-empty"})
# libmagic's guesses at source code for what may be any plain text
_TEXT_GUESSES = frozenset(
    {
        "application/javascript",
        "text/javascript",
        "text/x-c",
        "text/x-c++",
        "text/x-java",
        "text/x-makefile",
        "text/x-script.python",
        "text/x-perl",
        "text/x-asm",
        "text/x-tex",
        "text/x-ruby",
        "text/x-shellscript",
        "text/x-Algol68",
        "text/xml",
        "application/xml",
        "text/html",
        "application/vnd.hp-HPGL",  # any text starting "PA" (a Python `PAGINATION = {`)
    }
)


def by_extension(name: str) -> str | None:
    """The type a file name names, or None."""
    import mimetypes

    from ..kinds import extension_of

    ext = extension_of(name)
    if not ext:
        return None
    return _BY_EXTENSION.get(ext) or mimetypes.types_map.get("." + ext)


def _textual(mimetype: str) -> bool:
    return mimetype.startswith("text/") or mimetype in (
        "application/json",
        "application/geo+json",
        "application/x-ipynb+json",
        "application/xml",
        "application/xhtml+xml",
        "application/yaml",
        "application/toml",
        "application/javascript",
        "image/svg+xml",
        "chemical/x-cif",
        "chemical/x-xyz",
    )


def detect(
    head: bytes, use_libmagic: bool = True, name: str = "", describe: bool = True
) -> dict[str, Any]:
    """``{mimetype, description, detected_by, reason, magic_mimetype,
    extension_mimetype}`` for the first bytes of a file called ``name``; with
    ``describe=False`` (a caller that keeps only the type: what is inside a compressed
    file or an archive) libmagic is asked once, and ``description`` is the mime type."""
    if not head:
        return {
            "mimetype": "inode/x-empty",
            "description": "empty",
            "detected_by": "size",
            "reason": "the file is empty",
        }
    if head[128:132] == b"DICM":  # DICOM's magic follows a free 128-byte preamble,
        return {  # which may hold a TIFF header (a dual-personality file)
            "magic_mimetype": "application/dicom",
            "mimetype": "application/dicom",
            "description": "DICOM medical imaging data",
            "detected_by": "signature",
            "reason": "'DICM' at byte 128: DICOM, whatever the preamble looks like",
        }
    found = _libmagic(head, describe) if use_libmagic else None
    by = "libmagic"
    if found is None:
        found, by = _puremagic(head), "puremagic"
    named = by_extension(name) if name else None
    out: dict[str, Any] = {"magic_mimetype": found[0] if found else None}
    if named:
        out["extension_mimetype"] = named
    if found is None:
        if named:
            return {
                **out,
                "mimetype": named,
                "description": named,
                "detected_by": "extension",
                "reason": "the bytes matched no signature; the extension names the type",
            }
        text = _looks_like_text(head)
        found = ("text/plain", "text") if text else ("application/octet-stream", "data")
        return {
            **out,
            "mimetype": found[0],
            "description": found[1],
            "detected_by": "heuristic",
            "reason": "no signature and no known extension: " + found[1],
        }
    magic, description = found
    if named is None or named == magic:
        why = "the bytes and the extension agree" if named else "from the bytes"
        return {
            **out,
            "mimetype": magic,
            "description": description,
            "detected_by": by,
            "reason": why,
        }
    weak = magic in _GENERIC or magic in _TEXT_GUESSES
    # libmagic calls any text with commas on most lines CSV (Debian's libnss-mdns
    # ACKNOWLEDGEMENTS.md): a text format's extension says more, plain ".txt" does not
    weak = weak or (magic == "text/csv" and named != "text/plain")
    # an extension naming a text format refines a generic or guessed text answer, and
    # any extension knows more than "data"; plain text named like a binary format is
    # still text
    if (weak and _textual(named)) or magic == "application/octet-stream":
        return {
            **out,
            "mimetype": named,
            "description": description,
            "detected_by": "extension",
            "reason": f"{by} said {magic}, which the extension's {named} refines",
        }
    return {
        **out,
        "mimetype": magic,
        "description": description,
        "detected_by": by,
        "reason": f"the bytes are {magic}, whatever the name says ({named})",
    }


MAGIKA_SURE = 0.9  # Magika's score at which its answer is taken over a vague one
MAGIKA_MIN_BYTES = 256  # below this Magika guesses (a 35-byte TOML file: "javascript")


@functools.lru_cache(maxsize=1)
def _magika() -> Any:
    """The learned identifier (its model ships in the wheel), once per process; None
    where it is not installed."""
    try:
        import onnxruntime as rt
        from magika import Magika
    except ImportError:
        return None

    class OneThread(Magika):
        """Magika on one inference thread that does not spin: by default ONNX Runtime
        runs a thread per core and spins them between calls, 6.7 ms of CPU a file here
        against 5.0 on one thread, and the spinning takes the core another extraction
        process needs (the workers are the parallelism). Same model, same answers."""

        def _init_onnx_session(self) -> Any:
            options = rt.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return rt.InferenceSession(
                str(self._model_path), options, providers=["CPUExecutionProvider"]
            )

    return OneThread()


def _ask_magika(path: str) -> dict[str, Any] | None:
    """Magika's ``{magika_mimetype, magika_label, magika_score}`` for a file (it reads
    the file's start and end), or None."""
    model = _magika()
    if model is None:
        return None
    from pathlib import Path

    found = model.identify_path(Path(path))
    if not found.ok:
        return None
    return {
        "magika_mimetype": found.output.mime_type,
        "magika_label": found.output.label,
        "magika_score": round(float(found.score), 4),
    }


def learned_tier(out: dict[str, Any], path: str) -> dict[str, Any]:
    """The third tier, for what libmagic and the name leave vague: no signature and no
    known extension, or bare text/plain or data with no extension to refine it. Magika
    is asked only then (it costs milliseconds a file); a sure answer decides, and the
    record says so (``detected_by: magika`` and why)."""
    vague = out["detected_by"] == "heuristic" or (
        "extension_mimetype" not in out and out["mimetype"] in _GENERIC
    )
    if not vague or out.get("size", MAGIKA_MIN_BYTES) < MAGIKA_MIN_BYTES:
        return out
    learned = _ask_magika(path)
    if learned is None:
        return out
    out = {**out, **learned}
    guess = learned["magika_mimetype"]
    if learned["magika_score"] >= MAGIKA_SURE and guess not in _GENERIC | {out["mimetype"]}:
        before = out["mimetype"]
        out.update(
            mimetype=guess,
            detected_by="magika",
            reason=f"libmagic and the name said only {before}; Magika is sure it is "
            f"{learned['magika_label']} ({learned['magika_score']:.2f})",
        )
    return out


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3


def _content_hasher() -> Any:
    """A BLAKE3 hasher for the file's content id (None where blake3 is not installed:
    then nothing is deduplicated, and nothing else changes)."""
    try:
        from blake3 import blake3
    except ImportError:
        return None
    return blake3()


@extractor(
    "filetype",
    kinds=["*"],
    version="2.1",
    description="File type from bytes and name (with the evidence that decided) and a "
    "content hash; runs on every file.",
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
    content = _content_hasher() if hash else None
    size = 0
    with open(path, "rb") as f:
        head = f.read(_HEAD)
        size = len(head)
        if digest is not None:
            digest.update(head)
            if content is not None:
                content.update(head)
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
                if content is not None:
                    content.update(chunk)
                size += len(chunk)
        else:
            f.seek(0, 2)
            size = f.tell()
    out: dict[str, Any] = {**detect(head, use_libmagic, path), "size": size}
    out = learned_tier(out, path)
    if digest is not None:
        out[algorithm] = digest.hexdigest()
    if content is not None:
        out["content_id"] = "blake3:" + content.hexdigest()
    readers = select.readers_for(path, out["mimetype"])
    out["extractors"] = readers
    out["unknown"] = not readers
    if size == 0:
        out["warnings"] = ["the file is empty"]
    return out
