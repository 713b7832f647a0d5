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
from dataclasses import dataclass, field
from typing import Any, Protocol

from .isolation import DEFAULT_MEMORY_LIMIT, DEFAULT_TIME_LIMIT, MAX_CALLS, Call, IsolatedRunner
from .isolation import is_error_record as _is_error
from .kinds import extension_of
from .safepath import Roots
from .select import plan


class ContentCache(Protocol):
    """Extractor results by content: keys are ``"<content id> <extractor>@<version>"``,
    values ``{"path": the path it was read as, "result": what the extractor said}``."""

    def get(self, keys: list[str]) -> dict[str, Any]: ...

    def put(self, results: dict[str, Any]) -> None: ...


def content_key(content_id: str | None, name: str, path: str = "") -> str | None:
    """The :class:`ContentCache` key of extractor ``name``'s answer for this content
    (``None`` without a content id); for an extractor that reads the file's name, of
    this content under this name."""
    if not content_id:
        return None
    from .registry import get

    found = get(name)
    key = f"{content_id} {name}@{found.version}"
    if found.reads_name == "name":
        return f"{key} {os.path.basename(path)}"
    if found.reads_name == "extension":
        return f"{key} .{extension_of(path)}"
    return key


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
    max_calls: int = MAX_CALLS,
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
    params = params or {}
    allowed = Roots(roots, follow_links) if roots is not None else None
    runner = runner or _shared_runner(time_limit, memory_limit, max_calls)
    batch = _open(families, opened_as or {})
    planned = _identify(batch, runner, allowed, params, only, add or ())
    work = _deduplicate(batch, planned, params, cache)
    fresh = _run(batch, work, runner, allowed)
    _record(batch, work, fresh)
    _keep(cache, fresh)
    return [_document(fam, batch) for fam in families]


# -- the phases of a batch ----------------------------------------------------------------
@dataclass
class _Batch:
    """What a batch knows of each of its files, phase after phase."""

    opens: dict[str, str]  # path -> the path its bytes are read from
    suggested: dict[str, str | None]  # path -> the extractor its group names
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    timing: dict[str, list[tuple[str, float, bool]]] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    reuses: set[tuple[str, str]] = field(default_factory=set)  # (path, extractor)

    def __post_init__(self) -> None:
        for path in self.opens:
            self.metadata[path], self.errors[path], self.timing[path] = {}, [], []

    def answered(self, path: str, name: str, result: Any, seconds: float) -> bool:
        """Record what extractor ``name`` said of ``path``; whether it succeeded."""
        ok = not _is_error(result)
        self.timing[path].append((name, seconds, ok))
        if ok:
            self.metadata[path][name] = result
        else:
            self.errors[path].append({"path": path, **result})
        return ok


@dataclass
class _Work:
    """The extractor calls a batch makes, and the answers it takes from elsewhere."""

    calls: list[Call] = field(default_factory=list)
    owners: list[tuple[str, str, str | None]] = field(default_factory=list)  # path, name, key
    shared: list[tuple[str, str, str]] = field(default_factory=list)  # path, name, key
    known: dict[str, Any] = field(default_factory=dict)  # key -> {path, result}, cached


def _open(families: Sequence[Mapping[str, Any]], staged: Mapping[str, str]) -> _Batch:
    """Every file of the batch (group members and family files), once, with the path
    to read it from and the extractor its group suggests."""
    opens: dict[str, str] = {}
    suggested: dict[str, str | None] = {}
    for fam in families:
        records = {r["path"]: r for r in fam["files"]}
        for group in fam.get("groups") or [{"files": list(records), "extractor": None}]:
            for path in group["files"]:
                opens[path] = staged.get(path) or _readable(path, records.get(path, {}))
                suggested.setdefault(path, group.get("extractor"))
        for path, record in records.items():
            opens.setdefault(path, staged.get(path) or _readable(path, record))
    return _Batch(opens, suggested)


def _identify(
    batch: _Batch,
    runner: IsolatedRunner,
    allowed: Roots | None,
    params: dict[str, dict[str, Any]],
    only: list[str] | None,
    add: Sequence[str],
) -> list[tuple[str, list[str], str | None]]:
    """``filetype`` on every file (one round trip), then the extractors each file's
    type calls for: ``(path, extractor names, content id)``. A file refused as unsafe
    is never opened by another extractor."""
    paths = list(batch.opens)
    calls = [("filetype", [batch.opens[p]], params.get("filetype")) for p in paths]
    planned = []
    for path, (result, seconds) in zip(paths, runner.run_many(calls, allowed), strict=True):
        ok = batch.answered(path, "filetype", result, seconds)
        if result.get("error") == "unsafe_path":
            continue
        mimetype = result.get("mimetype") if ok else None
        names = plan(path, mimetype, suggested=batch.suggested.get(path), only=only, add=add)
        if not names:
            batch.unknown.add(path)
        planned.append((path, names, result.get("content_id") if ok else None))
    return planned


def _deduplicate(
    batch: _Batch,
    planned: list[tuple[str, list[str], str | None]],
    params: dict[str, dict[str, Any]],
    cache: ContentCache | None,
) -> _Work:
    """One call per distinct content and extractor: other files with the same bytes
    share its answer, and content the cache knows is not read at all. Calls with
    parameters are never shared."""
    work = _Work()
    first_of: set[str] = set()  # content keys this batch reads
    for path, names, content_id in planned:
        for name in names:
            key = None if params.get(name) else content_key(content_id, name, path)
            if key is not None and key in first_of:
                work.shared.append((path, name, key))
                continue
            if key is not None:
                first_of.add(key)
            work.calls.append((name, [batch.opens[path]], params.get(name)))
            work.owners.append((path, name, key))
    work.known = _cached(cache, sorted({o[2] for o in work.owners if o[2]}))
    if work.known:
        keep = [i for i, o in enumerate(work.owners) if o[2] not in work.known]
        work.shared += [(p, n, k or "") for p, n, k in work.owners if k in work.known]
        work.calls = [work.calls[i] for i in keep]
        work.owners = [work.owners[i] for i in keep]
    return work


def _run(
    batch: _Batch, work: _Work, runner: IsolatedRunner, allowed: Roots | None
) -> dict[str, Any]:
    """The extractor calls (one round trip); the answers read now, by content key."""
    fresh: dict[str, Any] = {}
    answers = runner.run_many(work.calls, allowed)
    for (path, name, key), (result, seconds) in zip(work.owners, answers, strict=True):
        if batch.answered(path, name, result, seconds) and key is not None:
            fresh[key] = {"path": batch.opens[path], "result": result}
    return fresh


def _record(batch: _Batch, work: _Work, fresh: dict[str, Any]) -> None:
    """Files that share an answer get it (their own path in place of the first's); when
    the one read of their content failed, they fail the same way."""
    answers = {**work.known, **fresh}
    for path, name, key in work.shared:
        if key in answers:
            first = answers[key]
            batch.metadata[path][name] = _rebased(first["result"], first["path"], batch.opens[path])
            batch.timing[path].append((name, 0.0, True))
            batch.reuses.add((path, name))
        else:
            batch.errors[path].append(
                {
                    "path": path,
                    "extractor": name,
                    "error": "same_content",
                    "message": "an identical file failed this extractor",
                }
            )
            batch.timing[path].append((name, 0.0, False))


def _document(fam: Mapping[str, Any], batch: _Batch) -> dict[str, Any]:
    """One family's document from what the batch found."""
    paths = list(
        dict.fromkeys(
            [r["path"] for r in fam["files"]]
            + [p for g in fam.get("groups", []) for p in g["files"]]
        )
    )
    summary: dict[str, dict[str, Any]] = {}
    for p in paths:
        for name, seconds, ok in batch.timing.get(p, []):
            s = summary.setdefault(
                name, {"state": "success", "files": 0, "seconds": 0.0, "errors": 0, "reused": 0}
            )
            s["files"] += 1
            s["reused"] += (p, name) in batch.reuses
            s["seconds"] = round(s["seconds"] + seconds, 6)
            if not ok:
                s["errors"] += 1
                s["state"] = "failed"
    return {
        "family_id": fam["family_id"],
        "files": fam["files"],
        "groups": fam.get("groups", []),
        "metadata": {p: batch.metadata.get(p, {}) for p in paths},
        "errors": [e for p in paths for e in batch.errors.get(p, [])],
        "extractors": summary,
        "unknown": [p for p in paths if p in batch.unknown],
    }
