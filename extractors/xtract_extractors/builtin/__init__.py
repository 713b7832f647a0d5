"""The built-in extractors; importing this package registers them all.

Each module imports its format library inside the function, so the registry lists every
extractor even on a worker that installed only one family's extra; calling one whose
library is missing gives an error naming the extra to install.
"""

from . import (
    archives,
    c_code,
    chunked,
    docs,
    filetype,
    hdf5,
    images,
    imaging,
    jsonxml,
    keyword,
    markup,
    materials,
    netcdf,
    office,
    pdf,
    python_code,
    records,
    science,
    spreadsheets,
    tabular,
)

__all__ = [
    "archives",
    "c_code",
    "chunked",
    "docs",
    "filetype",
    "hdf5",
    "images",
    "imaging",
    "jsonxml",
    "keyword",
    "markup",
    "materials",
    "netcdf",
    "office",
    "pdf",
    "python_code",
    "records",
    "science",
    "spreadsheets",
    "tabular",
]
