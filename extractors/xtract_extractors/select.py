"""Choosing extractors: which extractors read a file, from its name and the type
detected in its bytes; the bytes win when the two disagree.

>>> readers_for("photo.csv", "image/png")        # doctest: +SKIP
['images']
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from .kinds import extension_of
from .registry import Extractor, all_extractors

# container formats whose detected type does not name every format built on them
_CONTAINERS: dict[str, frozenset[str]] = {
    "application/x-hdf5": frozenset({"netcdf"}),
    "application/x-hdf": frozenset({"netcdf"}),
    # .docx, .xlsx, .npz are zip files (libmagic names some of them only "zip")
    "application/zip": frozenset({"keyword", "numpy", "spreadsheet", "office"}),
    "application/x-ole-storage": frozenset({"spreadsheet"}),  # .xls is an OLE2 file
    "application/CDFV2": frozenset({"spreadsheet"}),
    # libmagic takes an IDL save file (``SR\0\4``) for an ISO 9660 image
    "application/x-iso9660-image": frozenset({"statistics"}),
}
# extractors that check a file's magic bytes themselves (and say clearly when it is not
# theirs): chosen by extension even where libmagic knows only "data"
_OWN_MAGIC = frozenset({"columnar", "statistics", "nifti", "fits", "dicom", "matlab"})
_GZIP = frozenset({"application/gzip", "application/x-gzip"})
# readers a crawl names for every file of a dataset it made one family (a Zarr store)
DATASET_READERS = frozenset({"zarr"})
TEXT_KINDS = ("text/", "message/")  # what is text whatever else it is
TEXT_READER = "keyword"  # reads any text nothing more particular reads
_NOT_CONTENT = frozenset({"application/octet-stream", "inode/x-empty", "application/x-empty"})


def _mime_match(e: Extractor, mimetype: str) -> bool:
    return any(
        m == mimetype or (m.endswith("/*") and mimetype.startswith(m[:-1])) for m in e.mimetypes
    )


def _compatible(e: Extractor, mimetype: str) -> bool:
    """Whether an extractor chosen by extension may read a file of this detected type."""
    if mimetype in _NOT_CONTENT:
        return e.name in _OWN_MAGIC
    return (
        mimetype.startswith("text/")
        or _mime_match(e, mimetype)
        or e.name in _CONTAINERS.get(mimetype, ())
    )


def _named(e: Extractor, path: str) -> bool:
    """Whether the file's base name matches one of the extractor's name globs."""
    if not e.names:
        return False
    base = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(base, pattern) for pattern in e.names)


def readers_for(path: str, mimetype: str | None) -> list[str]:
    """Names of the extractors (``filetype`` aside) that read this file."""
    ext = extension_of(path)
    content = [e for e in all_extractors() if e.name != "filetype"]
    if mimetype is None:
        return [e.name for e in content if ext in e.extensions or _named(e, path)]
    by_ext = [e.name for e in content if ext in e.extensions and _compatible(e, mimetype)]
    # a name glob marks text files (VASP's OUTCAR, vasprun.xml, Zarr's .zarray,
    # reads.fastq.gz): text, XML, JSON, or gzip-compressed text it must be
    textual = (
        mimetype.startswith("text/") or mimetype.endswith(("xml", "json")) or mimetype in _GZIP
    )
    by_ext += [e.name for e in content if textual and _named(e, path) and e.name not in by_ext]
    if mimetype == "text/plain" and by_ext:
        return by_ext  # a .csv is text/plain too: the name is more precise here
    by_mime = [e.name for e in content if _mime_match(e, mimetype)]
    found = list(dict.fromkeys(by_ext + by_mime))
    if not found and mimetype.startswith(TEXT_KINDS):
        return [TEXT_READER]  # any text: at least its encoding, lines and words
    return found


def plan(
    path: str,
    mimetype: str | None,
    suggested: str | None = None,
    only: Iterable[str] | None = None,
    add: Iterable[str] = (),
) -> list[str]:
    """The content extractors to run on one file: the grouper's suggestion (if the
    bytes agree), the readers of the detected type, restricted to ``only`` if given,
    plus ``add``."""
    if suggested in DATASET_READERS:  # a store's files: its reader alone (chunks too)
        alone = [suggested] if only is None or suggested in set(only) else []
        return list(dict.fromkeys([*alone, *add]))
    names = readers_for(path, mimetype)
    if suggested and suggested not in names and suggested != "filetype":
        from .registry import get

        if mimetype is None or _compatible(get(suggested), mimetype):
            names.insert(0, suggested)
    if only is not None:
        allowed = set(only)
        names = [n for n in names if n in allowed]
    return list(dict.fromkeys([*names, *add]))
