"""Extracting a batch of families: the function every executor runs on its workers
(a local process, a Parsl worker, a Globus Compute endpoint). It needs only this
package, never the service.

A family comes in the crawl's shape, ``{family_id, files: [records], groups: [{group_id,
files, extractor}]}``, and goes back as a metadata document::

    {"family_id", "files", "groups",
     "metadata": {path: {extractor: {...}}},
     "errors": [{"path", "extractor", "error", "message"}],
     "extractors": {name: {"state": "success" | "failed", "files", "seconds", "errors"}},
     "unknown": [paths no extractor understands]}

Files are read in two round trips to the isolated process: ``filetype`` on every file,
then the extractors their detected types call for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from .isolation import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT, Call, IsolatedRunner
from .isolation import is_error_record as _is_error
from .safepath import Roots
from .select import plan

_local = threading.local()
_all_runners: list[IsolatedRunner] = []
_lock = threading.Lock()


def _shared_runner(time_limit: float, memory_limit: int | None, max_calls: int) -> IsolatedRunner:
    """One runner (so one extraction process) per thread of a worker, kept across
    batches and recycled after ``max_calls`` calls."""
    runner: IsolatedRunner | None = getattr(_local, "runner", None)
    wanted = (time_limit, memory_limit, max_calls)
    if runner is None or (runner.time_limit, runner.memory_limit, runner.max_calls) != wanted:
        if runner is not None:
            runner.close()
        runner = IsolatedRunner(
            time_limit=time_limit, memory_limit=memory_limit, max_calls=max_calls
        )
        _local.runner = runner
        with _lock:
            _all_runners.append(runner)
    return runner


def warm_shared_runner(time_limit: float, memory_limit: int | None, max_calls: int) -> None:
    """Start this thread's extraction process ahead of the first batch."""
    _shared_runner(time_limit, memory_limit, max_calls).run("filetype", [__file__])


def close_shared_runners() -> None:
    """Stop every extraction process this worker started."""
    with _lock:
        runners, _all_runners[:] = list(_all_runners), []
    for r in runners:
        r.close()


def _readable(path: str, record: dict[str, Any]) -> str:
    """The path to open: the raw bytes when the name is not UTF-8."""
    raw = record.get("path_b64")
    if raw:
        import base64

        return os.fsdecode(base64.b64decode(raw))
    return path


def extract_batch(
    families: Sequence[Mapping[str, Any]],
    only: list[str] | None = None,
    add: list[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    max_calls: int = 1000,
    runner: IsolatedRunner | None = None,
    roots: Sequence[str] | None = None,
    follow_links: bool = False,
    opened_as: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Metadata documents for ``families`` (see the module doc), in the same order.
    Files are opened only inside ``roots`` (the crawl's folders), through links only
    when ``follow_links``; a file that is not there, or not a regular file, gets an
    error record. ``opened_as`` maps a file's path to the path its bytes are read
    from (a staged copy of a file on a Globus endpoint); documents name the file by its
    own path either way."""
    staged = opened_as or {}
    params = params or {}
    allowed = Roots(roots, follow_links) if roots is not None else None
    runner = runner or _shared_runner(time_limit, memory_limit, max_calls)
    files: dict[str, str] = {}  # path -> path to open
    suggested: dict[str, str | None] = {}
    for fam in families:
        records = {r["path"]: r for r in fam["files"]}
        for group in fam.get("groups") or [{"files": list(records), "extractor": None}]:
            for path in group["files"]:
                files[path] = staged.get(path) or _readable(path, records.get(path, {}))
                suggested.setdefault(path, group.get("extractor"))
        for path, record in records.items():
            files.setdefault(path, staged.get(path) or _readable(path, record))

    paths = list(files)
    detected = runner.run_many(
        [("filetype", [files[p]], params.get("filetype")) for p in paths], allowed
    )
    metadata: dict[str, dict[str, Any]] = {p: {} for p in paths}
    errors: dict[str, list[dict[str, Any]]] = {p: [] for p in paths}
    timing: dict[str, list[tuple[str, float, bool]]] = {p: [] for p in paths}
    second: list[Call] = []
    owners: list[tuple[str, str]] = []
    unknown: set[str] = set()
    for path, (result, seconds) in zip(paths, detected, strict=True):
        timing[path].append(("filetype", seconds, not _is_error(result)))
        if _is_error(result):
            errors[path].append({"path": path, **result})
            mimetype = None
        else:
            metadata[path]["filetype"] = result
            mimetype = result.get("mimetype")
        if result.get("error") == "unsafe_path":
            continue  # not opened at all: no other extractor may try
        names = plan(path, mimetype, suggested=suggested.get(path), only=only, add=add or ())
        if not names:
            unknown.add(path)
        for name in names:
            second.append((name, [files[path]], params.get(name)))
            owners.append((path, name))
    for (path, name), (result, seconds) in zip(
        owners, runner.run_many(second, allowed), strict=True
    ):
        ok = not _is_error(result)
        timing[path].append((name, seconds, ok))
        if ok:
            metadata[path][name] = result
        else:
            errors[path].append({"path": path, **result})
    return [_document(fam, metadata, errors, timing, unknown) for fam in families]


def _document(
    fam: Mapping[str, Any],
    metadata: dict[str, dict[str, Any]],
    errors: dict[str, list[dict[str, Any]]],
    timing: dict[str, list[tuple[str, float, bool]]],
    unknown: set[str],
) -> dict[str, Any]:
    paths = list(
        dict.fromkeys(
            [r["path"] for r in fam["files"]]
            + [p for g in fam.get("groups", []) for p in g["files"]]
        )
    )
    summary: dict[str, dict[str, Any]] = {}
    for p in paths:
        for name, seconds, ok in timing.get(p, []):
            s = summary.setdefault(
                name, {"state": "success", "files": 0, "seconds": 0.0, "errors": 0}
            )
            s["files"] += 1
            s["seconds"] = round(s["seconds"] + seconds, 6)
            if not ok:
                s["errors"] += 1
                s["state"] = "failed"
    return {
        "family_id": fam["family_id"],
        "files": fam["files"],
        "groups": fam.get("groups", []),
        "metadata": {p: metadata.get(p, {}) for p in paths},
        "errors": [e for p in paths for e in errors.get(p, [])],
        "extractors": summary,
        "unknown": [p for p in paths if p in unknown],
    }
