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

Files are read in two round trips to the isolated process: ``filetype`` on every file
(which also gives its ``content_id``, a BLAKE3 hash of its bytes), then the extractors
their detected types call for. An extractor runs once per distinct content: files of
the batch with the same ``content_id`` share its result, and a :class:`ContentCache`
(the service gives one to in-process workers) answers for content read before, in any
crawl of the same owner, on any endpoint. Such files count as ``reused`` in the
extractor's summary. Calls with parameters are never shared.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .isolation import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT, Call, IsolatedRunner
from .isolation import is_error_record as _is_error
from .safepath import Roots
from .select import plan


class ContentCache(Protocol):
    """Extractor results by content: keys are ``"<content id> <extractor>@<version>"``,
    values ``{"path": the path it was read as, "result": what the extractor said}``."""

    def get(self, keys: list[str]) -> dict[str, Any]: ...

    def put(self, results: dict[str, Any]) -> None: ...


def content_key(content_id: str | None, name: str) -> str | None:
    """The :class:`ContentCache` key of extractor ``name``'s answer for this content
    (``None`` without a content id)."""
    if not content_id:
        return None
    from .registry import get

    return f"{content_id} {name}@{get(name).version}"


def _cached(cache: ContentCache | None, wanted: list[str]) -> dict[str, Any]:
    """What the cache knows of these keys; nothing when it cannot answer (a cache
    saves reads, it is never why a batch fails)."""
    if cache is None or not wanted:
        return {}
    try:
        found = cache.get(wanted)
    except Exception:
        return {}
    return {k: v for k, v in found.items() if isinstance(v, dict) and {"path", "result"} <= set(v)}


def _rebased(result: Any, old: str, new: str) -> Any:
    """An extractor's answer for one path, made the answer for another with the same
    bytes: the old path, wherever a message names it, becomes the new one."""
    if old == new:
        return result
    if isinstance(result, str):
        return result.replace(old, new)
    if isinstance(result, dict):
        return {k: _rebased(v, old, new) for k, v in result.items()}
    if isinstance(result, list):
        return [_rebased(v, old, new) for v in result]
    return result


def _keep(cache: ContentCache | None, fresh: dict[str, Any]) -> None:
    if cache is None or not fresh:
        return
    with contextlib.suppress(Exception):  # the next batch reads it again: slower, not wrong
        cache.put(fresh)


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
    cache: ContentCache | None = None,
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
    reuses: set[tuple[str, str]] = set()
    detected = runner.run_many(
        [("filetype", [files[p]], params.get("filetype")) for p in paths], allowed
    )
    metadata: dict[str, dict[str, Any]] = {p: {} for p in paths}
    errors: dict[str, list[dict[str, Any]]] = {p: [] for p in paths}
    timing: dict[str, list[tuple[str, float, bool]]] = {p: [] for p in paths}
    second: list[Call] = []
    owners: list[tuple[str, str, str | None]] = []
    unknown: set[str] = set()
    reused: list[tuple[str, str, str]] = []  # (path, extractor, content key)
    first_of: set[str] = set()  # content keys this batch reads
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
        content_id = None if _is_error(result) else result.get("content_id")
        for name in names:
            key = None if params.get(name) else content_key(content_id, name)
            if key is not None and key in first_of:
                reused.append((path, name, key))
                continue
            if key is not None:
                first_of.add(key)
            second.append((name, [files[path]], params.get(name)))
            owners.append((path, name, key))
    known = _cached(cache, sorted({o[2] for o in owners if o[2]}))
    if known:
        for path, name, key in [o for o in owners if o[2] in known]:
            reused.append((path, name, key or ""))
        keep = [i for i, o in enumerate(owners) if o[2] not in known]
        second, owners = [second[i] for i in keep], [owners[i] for i in keep]
    results: dict[str, Any] = dict(known)  # content key -> {path, result}
    for (path, name, key), (result, seconds) in zip(
        owners, runner.run_many(second, allowed), strict=True
    ):
        ok = not _is_error(result)
        timing[path].append((name, seconds, ok))
        if ok:
            metadata[path][name] = result
            if key is not None:
                results[key] = {"path": files[path], "result": result}
        else:
            errors[path].append({"path": path, **result})
    for path, name, key in reused:
        if key in results:
            first = results[key]
            metadata[path][name] = _rebased(first["result"], first["path"], files[path])
            timing[path].append((name, 0.0, True))
            reuses.add((path, name))
        else:  # the one read of this content failed: so does this file, the same way
            errors[path].append(
                {
                    "path": path,
                    "extractor": name,
                    "error": "same_content",
                    "message": "an identical file failed this extractor",
                }
            )
            timing[path].append((name, 0.0, False))
    _keep(cache, {k: v for k, v in results.items() if k not in known})
    return [_document(fam, metadata, errors, timing, unknown, reuses) for fam in families]


def _document(
    fam: Mapping[str, Any],
    metadata: dict[str, dict[str, Any]],
    errors: dict[str, list[dict[str, Any]]],
    timing: dict[str, list[tuple[str, float, bool]]],
    unknown: set[str],
    reuses: set[tuple[str, str]],
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
                name, {"state": "success", "files": 0, "seconds": 0.0, "errors": 0, "reused": 0}
            )
            s["files"] += 1
            s["reused"] += (p, name) in reuses
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
