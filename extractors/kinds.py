"""File kinds: which extension belongs to which kind, and which extractor reads it.

A *kind* is a coarse family of formats (tabular, text, image, ...). Groupers use it to
put files that one extractor reads into the same group; the extractor library uses it to
pick a reader. Detection from the bytes (``filetype``) can later override the guess made
here from the name.

>>> kind_of("data/run1.CSV")
'tabular'
>>> extractor_for("model.nc")
'netcdf'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Kind:
    """A family of formats, the extensions that mark it, and the default extractor
    for each extension (``extractor`` applies when an extension has no override)."""

    name: str
    extensions: frozenset[str]
    extractor: str | None
    overrides: tuple[tuple[str, str], ...] = ()


KINDS: Final[tuple[Kind, ...]] = (
    Kind("tabular", frozenset({"csv", "tsv", "tab", "psv", "dat"}), "tabular"),
    Kind(
        "text",
        frozenset({"txt", "md", "rst", "log", "tex", "readme", "docx", "rtf"}),
        "keyword",
    ),
    Kind(
        "image",
        frozenset({"png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"}),
        "images",
    ),
    Kind(
        "hierarchical",
        frozenset({"h5", "hdf5", "hdf", "he5", "nc", "nc4", "cdf", "netcdf"}),
        "hdf5",
        overrides=(("nc", "netcdf"), ("nc4", "netcdf"), ("cdf", "netcdf"), ("netcdf", "netcdf")),
    ),
    Kind("structured", frozenset({"json", "xml", "jsonld", "geojson"}), "jsonxml"),
    Kind(
        "code",
        frozenset({"py", "c", "h", "cc", "cpp", "hpp", "ipynb"}),
        "python",
        overrides=(
            ("c", "c_code"),
            ("h", "c_code"),
            ("cc", "c_code"),
            ("cpp", "c_code"),
            ("hpp", "c_code"),
        ),
    ),
    Kind("document", frozenset({"pdf"}), "pdf"),
)

UNKNOWN: Final = "unknown"

_KIND_BY_EXT: Final[dict[str, str]] = {ext: k.name for k in KINDS for ext in k.extensions}
_EXTRACTOR_BY_EXT: Final[dict[str, str | None]] = {
    ext: dict(k.overrides).get(ext, k.extractor) for k in KINDS for ext in k.extensions
}


def extension_of(path: str) -> str:
    """The lower-case extension of a file name without the dot, or ``""``."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if dot > 0 else ""


def kind_of(path: str) -> str:
    """The kind a file name suggests, or ``"unknown"``."""
    return kind_of_extension(extension_of(path))


def kind_of_extension(extension: str) -> str:
    """The kind of a lower-case extension (no dot), or ``"unknown"``."""
    return _KIND_BY_EXT.get(extension, UNKNOWN)


def extractor_for(path: str) -> str | None:
    """The extractor that reads a file of this name, or ``None`` when none is known
    (the ``filetype`` extractor then decides from the bytes)."""
    return extractor_for_extension(extension_of(path))


def extractor_for_extension(extension: str) -> str | None:
    """The extractor for a lower-case extension (no dot), or ``None``."""
    return _EXTRACTOR_BY_EXT.get(extension)


# extractor -> the container family (``containers/<family>/``) whose image runs it
CONTAINER_FAMILIES: Final[dict[str, str]] = {
    "tabular": "tabular",
    "keyword": "keyword",
    "images": "images",
    "jsonxml": "jsonxml",
    "hdf5": "hierarchical",
    "netcdf": "hierarchical",
    "python": "code",
    "c_code": "code",
    "pdf": "pdf",
}


def container_family(extractor: str | None) -> str | None:
    """The container family that serves an extractor (``None``: any image will do)."""
    return CONTAINER_FAMILIES.get(extractor or "")
