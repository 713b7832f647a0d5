"""Xtract's extractors: functions that read metadata out of research files.

Importable on a worker with no service code. The public surface:

- :func:`extractor` and :func:`param` declare an extractor (see ``registry``);
- :func:`get` and :func:`all_extractors` find them (built-ins and plug-ins from the
  ``xtract.extractors`` entry-point group);
- :class:`IsolatedRunner` runs them in a child process with time and memory limits;
- :func:`extract_file` detects a file's type, chooses extractors and runs them;
- ``kinds`` maps file names to kinds and default extractors.

>>> from xtract_extractors import IsolatedRunner, extract_file
>>> with IsolatedRunner(time_limit=30) as runner:          # doctest: +SKIP
...     extract_file("/data/run1/table.csv", runner)["metadata"]["tabular"]["rows"]
"""

from .extract import extract_file
from .isolation import IsolatedRunner, error_record, is_error_record
from .kinds import (
    Kind,
    container_families,
    extractor_for,
    extractor_for_extension,
    kind_of,
    kind_of_extension,
    kinds,
)
from .registry import (
    PLUGIN_ERRORS,
    Extractor,
    Param,
    ParamError,
    UnknownExtractor,
    all_extractors,
    extractor,
    get,
    param,
)
from .select import plan, readers_for

__all__ = [
    "PLUGIN_ERRORS",
    "Extractor",
    "IsolatedRunner",
    "Kind",
    "Param",
    "ParamError",
    "UnknownExtractor",
    "all_extractors",
    "container_families",
    "error_record",
    "extract_file",
    "extractor",
    "extractor_for",
    "extractor_for_extension",
    "get",
    "is_error_record",
    "kind_of",
    "kind_of_extension",
    "kinds",
    "param",
    "plan",
    "readers_for",
]
