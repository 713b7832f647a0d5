"""File kinds: which extension belongs to which kind, which extractor reads it, and
which container family serves an extractor, all derived from the extractor registry
(each ``@extractor`` declares its kinds, extensions and family; nothing is declared
twice).

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
from functools import cache
from typing import Final

UNKNOWN: Final = "unknown"


@dataclass(frozen=True)
class Kind:
    """A family of formats and the extensions that mark it."""

    name: str
    extensions: frozenset[str]


@dataclass(frozen=True)
class _Tables:
    kind_by_ext: dict[str, str]
    extractor_by_ext: dict[str, str]
    family_by_extractor: dict[str, str]


@cache
def _tables() -> _Tables:
    """Read once from the registry (built-ins and plug-ins). An extension claimed by two
    extractors goes to the first by name."""
    from .registry import all_extractors

    kind_by_ext: dict[str, str] = {}
    extractor_by_ext: dict[str, str] = {}
    families: dict[str, str] = {}
    for e in all_extractors():
        if e.family:
            families[e.name] = e.family
        kind = e.kinds[0] if e.kinds else UNKNOWN
        for ext in e.extensions:
            kind_by_ext.setdefault(ext, kind)
            extractor_by_ext.setdefault(ext, e.name)
    return _Tables(kind_by_ext, extractor_by_ext, families)


def kinds() -> tuple[Kind, ...]:
    """Every kind the registered extractors read, with its extensions."""
    by_kind: dict[str, set[str]] = {}
    for ext, kind in _tables().kind_by_ext.items():
        by_kind.setdefault(kind, set()).add(ext)
    return tuple(Kind(k, frozenset(exts)) for k, exts in sorted(by_kind.items()))


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
    return _tables().kind_by_ext.get(extension, UNKNOWN)


def extractor_for(path: str) -> str | None:
    """The extractor that reads a file of this name, or ``None`` when none is known
    (the ``filetype`` extractor then decides from the bytes)."""
    return extractor_for_extension(extension_of(path))


def extractor_for_extension(extension: str) -> str | None:
    """The extractor for a lower-case extension (no dot), or ``None``."""
    return _tables().extractor_by_ext.get(extension)


def container_families() -> dict[str, str]:
    """Extractor -> the container family (``containers/``, built with that extra) whose
    image runs it. Extractors with no family (``filetype``) run in every image."""
    return dict(_tables().family_by_extractor)


def container_family(extractor: str | None) -> str | None:
    """The container family that serves an extractor (``None``: any image will do)."""
    return _tables().family_by_extractor.get(extractor or "")


def families_table() -> tuple[dict[str, list[str]], str]:
    """Family -> its extractors, and the same as lines ``family  extractors`` that say
    which of a family's libraries are not installed here (``xtract extractors
    --families``, and ``python -m xtract_extractors`` in an image)."""
    served: dict[str, list[str]] = {}
    for name, family in sorted(container_families().items()):
        served.setdefault(family, []).append(name)
    lines = []
    for family, names in sorted(served.items()):
        missing = missing_libraries(family)
        note = f"  (not installed: {', '.join(missing)})" if missing else ""
        lines.append(f"{family:<14} {' '.join(names)}{note}")
    return served, "\n".join(lines)


@cache
def missing_libraries(family: str | None) -> tuple[str, ...]:
    """The distributions the extra called ``family`` names that are not installed here
    (from the installed ``xtract``'s own metadata; none known: nothing missing)."""
    import re
    from importlib import metadata

    if not family:
        return ()
    try:
        requires = metadata.requires("xtract") or []
    except metadata.PackageNotFoundError:
        return ()
    missing = []
    for requirement in requires:
        if not re.search(rf"extra\s*==\s*['\"]{re.escape(family)}['\"]", requirement):
            continue
        name = re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]
        if name == "xtract":
            continue
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return tuple(missing)


def declared_fields() -> dict[str, dict[str, str]]:
    """Extractor -> the facts it declares as typed export columns (``@extractor(fields=
    ...)``), plug-ins' too."""
    from .registry import all_extractors

    return {e.name: dict(e.fields) for e in all_extractors() if e.fields}
