"""Xtract's extractors: functions that read metadata out of research files.

This package is importable on a worker with no service code. For now it holds the
file-kind table (:mod:`xtract_extractors.kinds`) that the crawl's groupers use to
decide which extractor should read a file.
"""

from .kinds import (
    KINDS,
    Kind,
    extractor_for,
    extractor_for_extension,
    kind_of,
    kind_of_extension,
)

__all__ = [
    "KINDS",
    "Kind",
    "extractor_for",
    "extractor_for_extension",
    "kind_of",
    "kind_of_extension",
]
