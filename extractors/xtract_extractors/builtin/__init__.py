"""The built-in extractors; importing this package registers them all.

Each module imports its format library inside the function, so the registry lists every
extractor even on a worker that installed only one family's extra; calling one whose
library is missing gives an error naming the extra to install.
"""

from . import (
    archives,
    c_code,
    docs,
    filetype,
    hdf5,
    images,
    jsonxml,
    keyword,
    markup,
    netcdf,
    pdf,
    python_code,
    tabular,
)

__all__ = [
    "archives",
    "c_code",
    "docs",
    "filetype",
    "hdf5",
    "images",
    "jsonxml",
    "keyword",
    "markup",
    "netcdf",
    "pdf",
    "python_code",
    "tabular",
]
