"""Extracting a file or a group: detect its type, choose extractors, run each in
isolation, and gather the metadata and error records in one document.

>>> with IsolatedRunner() as runner:                       # doctest: +SKIP
...     doc = extract_file("/data/run1/a.csv", runner)
>>> doc["metadata"]["tabular"]["rows"]                     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .isolation import IsolatedRunner, is_error_record
from .select import plan


def extract_file(
    path: str,
    runner: IsolatedRunner,
    *,
    suggested: str | None = None,
    only: Iterable[str] | None = None,
    add: Iterable[str] = (),
    params: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``{path, mimetype, extractors, metadata: {name: ...}, errors: [...], unknown}``.

    ``filetype`` always runs first; its detected type (not the name) decides which
    extractors follow, with ``suggested`` (the grouper's choice) kept when the bytes
    agree. ``only`` restricts the extractors, ``add`` adds more, and ``params`` holds
    parameters per extractor name.
    """
    params = params or {}
    metadata: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    detected = runner.run("filetype", [path], params.get("filetype"))
    mimetype = None
    if is_error_record(detected):
        errors.append(detected)
    else:
        metadata["filetype"] = detected
        mimetype = detected.get("mimetype")
    names = plan(path, mimetype, suggested=suggested, only=only, add=add)
    for name in names:
        result = runner.run(name, [path], params.get(name))
        if is_error_record(result):
            errors.append(result)
        else:
            metadata[name] = result
    return {
        "path": path,
        "mimetype": mimetype,
        "extractors": names,
        "metadata": metadata,
        "errors": errors,
        "unknown": not names,
    }
