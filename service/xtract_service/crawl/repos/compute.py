"""The Compute repo: a Globus endpoint's folders listed *next to the data*, by a function
running on a Globus Compute endpoint that sees the collection's files.

The published Xtract listed a Globus collection with one Transfer ``ls`` per folder page,
at about 20 requests a second per user, and Transfer refuses folders over 100,000
entries. Here the crawl worker sends each frontier entry's folders (up to
``dirs_per_entry`` of them) to :func:`walk_folders` on the Compute endpoint: the same
local walker the service uses on its own disk (:class:`LocalRepo`: safe paths, skip
patterns, links not followed unless asked), which lists them and goes on down their
sub-folders, breadth-first, until its answer holds ``page_entries`` entries; the
sub-folders it did not reach go on the crawl's frontier as usual. A folder larger than
a page is continued in the next task from where the last one stopped, so no folder is
too big, and none is skipped.

The collection's ``/`` is the folder ``collection_root`` on the Compute endpoint's host
(``/`` by default: a collection mapped at the file system's root).

When the Compute endpoint refuses the function, is offline, or does not answer within
``timeout`` seconds, the crawl falls back to Transfer listings (:class:`GlobusRepo`) for
the rest of the crawl, and ``told`` is told why (the worker turns that into one
``crawl.fallback`` event).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from xtract_extractors.safepath import within
from xtract_service.crawl.repos import Fallback, Listing, Repo
from xtract_service.crawl.repos.walker import MAX_FOLDERS, PAGE_ENTRIES, walk_folders


class ComputeRepo:
    """Lists a Globus crawl's folders with :func:`walk_folders` on a Compute endpoint."""

    def __init__(
        self,
        executor: Any,
        fallback: Callable[[], Repo],
        *,
        crawl_roots: list[str],
        collection_root: str = "/",
        skip: list[str] | None = None,
        follow_symlinks: bool = False,
        page_entries: int = PAGE_ENTRIES,
        timeout: float = 300.0,
        told: Fallback | None = None,
    ) -> None:
        self.executor = executor  # ComputeTasks: submit(fn, *args) -> Future
        self._fallback_factory = fallback
        self._fallback: Repo | None = None
        self.crawl_roots = crawl_roots
        self.root = collection_root
        self.skip = skip or []
        self.follow = follow_symlinks
        self.page_entries = page_entries
        self.timeout = timeout
        self.told = told  # says this repo fell back; hears that another worker did

    def list_dir(self, path: str) -> Listing:
        return dict(self.list_tree([path]))[path]

    def list_tree(self, paths: list[str]) -> list[tuple[str, Listing]]:
        """Listings of ``paths`` and of the sub-folders the walker went on to list in
        the same tasks (each of those is in the answer; the others are left in their
        parent's ``subdirs`` for the frontier)."""
        if self._fallback is None and self.told is not None:
            reason = self.told.fallen()
            if reason:
                self._fall_back(reason, tell=False)
        if self._fallback is not None:
            return [(p, self._fallback.list_dir(p)) for p in paths]
        done: dict[str, Listing] = {}
        todo: list[list[Any]] = [[p, 0] for p in paths]
        asked = set(paths)
        while todo:
            try:
                answer = self._walk(todo)
            except Exception as exc:  # refused, offline, timed out, or failed there
                self._fall_back(_reason(exc), tell=True)
                assert self._fallback is not None
                for p, offset in todo:
                    if p in asked and offset == 0:
                        done[p] = self._fallback.list_dir(p)
                    elif offset:  # a folder cut midway is kept as far as it went
                        done[p].errors.append(
                            {"path": p, "error": "the Compute endpoint stopped midway"}
                        )
                break
            for a in answer["listed"]:
                _merge(done.setdefault(a["path"], Listing()), a)
            # what the walker did not reach: the asked-for folders and folders cut
            # midway go again; sub-folders it did not reach stay in their parent's
            # subdirs, for the frontier
            todo = [[p, o] for p, o in answer["left"] if p in asked or o]
        return list(done.items())

    def _walk(self, todo: list[list[Any]]) -> dict[str, Any]:
        future = self.executor.submit(
            walk_folders,
            self.root,
            self.crawl_roots,
            todo,
            self.page_entries,
            self.skip,
            self.follow,
        )
        try:
            answer: dict[str, Any] = future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(
                f"no answer from the Compute endpoint in {self.timeout:g} s"
            ) from None
        return check_answer(answer, todo, self.crawl_roots, self.page_entries)

    def _fall_back(self, reason: str, *, tell: bool) -> None:
        if self._fallback is None:
            self._fallback = self._fallback_factory()
            if tell and self.told is not None:
                self.told.tell(reason)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self._fallback is not None:
            self._fallback.close()


class BadAnswer(ValueError):
    """A walker's answer that is not what :func:`walk_folders` answers."""


def check_answer(
    answer: Any, todo: list[list[Any]], crawl_roots: list[str], page_entries: int
) -> dict[str, Any]:
    """The walker's answer, if it is one :func:`walk_folders` could have given for
    ``todo``: only folders asked for, or found on the way (breadth-first, each a listed
    folder's sub-folder); single, well-formed names; no more entries than a page holds.
    The endpoint is the caller's choice, so its answer is checked like a request; a
    :class:`BadAnswer` says what is wrong (the crawl then lists with Transfer)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("listed"), list):
        raise BadAnswer("the walker's answer is not a listing")
    if not answer["listed"] and todo:
        raise BadAnswer("the Compute endpoint's walker listed nothing")
    reachable = {p for p, _ in todo}
    files = 0  # a folder's sub-folders all come with its first page: bounded by bytes
    for a in answer["listed"]:
        _check_folder(a, reachable, crawl_roots)
        files += len(a["files"])
        reachable.update(d for _, d in a["subdirs"])
    if files > page_entries or len(answer["listed"]) > MAX_FOLDERS:
        raise BadAnswer(f"{files:,} files, more than a page of {page_entries:,} holds")
    left = answer.get("left")
    if not isinstance(left, list) or not all(
        isinstance(x, list) and len(x) == 2 and x[0] in reachable and _count(x[1]) for x in left
    ):
        raise BadAnswer("the walker's answer leaves folders it was not asked for")
    return answer


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_folder(a: Any, reachable: set[str], crawl_roots: list[str]) -> None:
    """One listed folder of a walker's answer (see :func:`check_answer`)."""
    if not isinstance(a, dict) or a.get("path") not in reachable:
        raise BadAnswer(f"the walker listed a folder it was not asked for: {str(a)[:200]!r}")
    path = a["path"]
    files, stamps, subdirs = a.get("files"), a.get("stamps"), a.get("subdirs")
    if not (isinstance(files, list) and isinstance(stamps, list) and isinstance(subdirs, list)):
        raise BadAnswer(f"{path}: not a listing")
    for f in files:
        if not (
            isinstance(f, list)
            and 3 <= len(f) <= 4
            and _name(f[0])
            and _count(f[1])
            and (f[2] is None or isinstance(f[2], int | float))
            and (len(f) == 3 or isinstance(f[3], str))
        ):
            raise BadAnswer(f"{path}: a file entry that is not [name, size, mtime]: {f!r:.200}")
    if stamps and (len(stamps) != len(files) or not all(_count(i) for i in stamps)):
        raise BadAnswer(f"{path}: change stamps do not match its files")
    prefix = path.rstrip("/") + "/"
    for pair in subdirs:
        ok = isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        if not ok or not pair[1].startswith(prefix) or not _name(pair[1][len(prefix) :]):
            raise BadAnswer(f"{path}: a sub-folder that is not its own: {pair!r:.200}")
        key = posixpath.normpath(pair[0])
        if key != pair[0] or not any(within(key, r) for r in crawl_roots):
            raise BadAnswer(f"{path}: a sub-folder key outside the crawl: {pair[0]!r:.200}")
    errors = a.get("errors")
    if not isinstance(errors, list) or not all(
        isinstance(e, dict) and isinstance(e.get("path"), str) and isinstance(e.get("error"), str)
        for e in errors
    ):
        raise BadAnswer(f"{path}: errors that are not [{{path, error}}]")
    if not (_count(a.get("links_skipped")) and _count(a.get("unreadable"))):
        raise BadAnswer(f"{path}: counters that are not counts")


def _name(value: Any) -> bool:
    """A single, well-formed entry name (no ``/``, not ``.`` or ``..``, no NUL)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 255
        and "/" not in value
        and "\x00" not in value
        and value not in (".", "..")
    )


def _merge(into: Listing, answer: dict[str, Any]) -> None:
    into.files += answer["files"]
    into.stamps += answer["stamps"]
    into.subdirs += [(k, d) for k, d in answer["subdirs"]]
    into.errors += answer["errors"]
    into.links_skipped += answer["links_skipped"]
    into.unreadable += answer["unreadable"]


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
