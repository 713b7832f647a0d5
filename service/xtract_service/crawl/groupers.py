"""Groupers: how the files of one directory become families.

A grouper receives a directory and its files, each ``[name, size, mtime]``, and
returns its families: a list of families, each a list of groups ``[[file indices],
extractor]`` (``None`` lets the ``filetype`` extractor decide), or :data:`PER_FILE` for
one family per file. It works on indices so that crawling a million files builds no
per-file objects; :mod:`xtract_service.crawl.families` expands them into the documented
``{family_id, files, groups}`` shape when they are read. A file left out of every
family still gets a family of its own.

A new grouper is one decorated function::

    @grouper("pairs")
    def pairs(directory, files):
        return [[[[i, i + 1], None]] for i in range(0, len(files) - 1, 2)]

Third-party packages add groupers through the ``xtract.groupers`` entry-point group.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from xtract_extractors.kinds import extractor_for_extension, kind_of_extension
from xtract_service.crawl.families import PER_FILE, FileEntry, extension

log = logging.getLogger(__name__)

Grouper = Callable[[str, list[FileEntry]], Any]

GROUPERS: dict[str, Grouper] = {}


def grouper(name: str) -> Callable[[Grouper], Grouper]:
    """Register ``fn`` as the grouper called ``name``."""

    def register(fn: Grouper) -> Grouper:
        GROUPERS[name] = fn
        return fn

    return register


@grouper("file_is_group")
def file_is_group(directory: str, files: list[FileEntry]) -> Any:
    """One family per file, with one group read by the file's extractor."""
    return PER_FILE


@grouper("directory")
def directory(directory: str, files: list[FileEntry]) -> Any:
    """One family per directory: its files travel together, one group per file."""
    if not files:
        return []
    return [[[[i], extractor_for_extension(extension(f[0]))] for i, f in enumerate(files)]]


@grouper("extension")
def by_kind(directory: str, files: list[FileEntry]) -> Any:
    """Per directory, one family per file kind (tabular, text, image, ...), one group
    per file."""
    families: dict[str, list[list[Any]]] = {}
    for i, f in enumerate(files):
        ext = extension(f[0])
        families.setdefault(kind_of_extension(ext), []).append([[i], extractor_for_extension(ext)])
    return list(families.values())


# the files of one VASP run, named by VASP (a run folder is one dataset)
VASP_FILES = frozenset(
    {
        "INCAR",
        "POSCAR",
        "KPOINTS",
        "POTCAR",
        "OUTCAR",
        "CONTCAR",
        "OSZICAR",
        "CHGCAR",
        "CHG",
        "WAVECAR",
        "DOSCAR",
        "EIGENVAL",
        "IBZKPT",
        "PCDAT",
        "REPORT",
        "XDATCAR",
        "PROCAR",
        "LOCPOT",
        "ELFCAR",
        "vasprun.xml",
        "vaspout.h5",
    }
)
# formats whose datasets are series of files: one file per slice, frame or exposure
SERIES_EXTENSIONS = frozenset({"dcm", "tif", "tiff", "fits", "fit", "fts", "nii"})
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _series_key(name: str) -> tuple[str, str] | None:
    """``(prefix, extension)`` of a numbered file of a series format (``scan_0012.tif``
    -> ``("scan_", "tif")``); a DICOM file's key is its extension alone (a folder of
    ``.dcm`` files is one series however they are named)."""
    ext = extension(name)
    if ext not in SERIES_EXTENSIONS:
        return None
    if ext == "dcm":
        return ("", ext)
    m = _NUMBERED.match(name[: -len(ext) - 1])
    return (m.group(1), ext) if m else None


@grouper("datasets")
def datasets(directory: str, files: list[FileEntry]) -> Any:
    """Per directory, the files of one dataset become one family: a VASP run's files,
    a DICOM series (every ``.dcm`` of the folder), a numbered series of TIFF, FITS or
    NIfTI files sharing a prefix (two or more). Each file keeps a group of its own, read
    by its extractor; every other file is a family of its own."""
    vasp = [i for i, f in enumerate(files) if f[0] in VASP_FILES]
    series: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(files):
        key = _series_key(f[0])
        if key is not None and f[0] not in VASP_FILES:
            series.setdefault(key, []).append(i)
    families = [members for members in series.values() if len(members) > 1]
    if len(vasp) > 1:
        families.append(vasp)
    grouped = {i for members in families for i in members}
    families += [[i] for i in range(len(files)) if i not in grouped]
    return [
        [[[i], extractor_for_extension(extension(files[i][0]))] for i in members]
        for members in families
    ]


def _load_plugins() -> None:
    for ep in entry_points(group="xtract.groupers"):
        try:
            ep.load()  # the module registers itself with @grouper
        except Exception as exc:  # a broken plug-in must not stop the service
            log.warning("grouper plug-in %s failed to load: %s", ep.name, exc)


_load_plugins()
