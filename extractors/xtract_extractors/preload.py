"""Imported once by the extraction processes' fork server, so every extraction process
starts with the format libraries already loaded (importing numpy, h5py and netCDF4 in
each new process would cost a second or more). A library that is not installed is
skipped: its extractor reports that when called."""

from __future__ import annotations

import importlib

LIBRARIES = (
    "numpy",
    "h5py",
    "netCDF4",
    "PIL.Image",
    "PIL.ImageStat",
    "pypdf",
    "yake_rust",
    "py3langid",
    "docx",
    "defusedxml.ElementTree",
    "magic",
    "puremagic",
    "tree_sitter",
    "tree_sitter_c",
    "vermin",
    "magika",
    "markdown_it",
    "charset_normalizer",
    "fontTools.ttLib",
    "cryptography.x509",
    "yaml",
    "tomllib",
)

for _name in LIBRARIES:
    try:
        importlib.import_module(_name)
    except Exception:  # missing or broken: the extractor will say so
        continue
importlib.import_module(f"{__package__}.builtin")
# py3langid's model (76 MB of address space) loads on a process's first keyword call, not
# here: every extraction process would carry it under its memory limit
