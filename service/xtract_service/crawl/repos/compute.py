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

from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from xtract_service.crawl.repos import Fallback, Listing, Repo
from xtract_service.crawl.repos.walker import PAGE_ENTRIES, walk_folders


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
        if not answer["listed"] and todo:
            raise RuntimeError("the Compute endpoint's walker listed nothing")
        return answer

    def _fall_back(self, reason: str, *, tell: bool) -> None:
        if self._fallback is None:
            self._fallback = self._fallback_factory()
            if tell and self.told is not None:
                self.told.tell(reason)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self._fallback is not None:
            self._fallback.close()


def _merge(into: Listing, answer: dict[str, Any]) -> None:
    into.files += answer["files"]
    into.inodes += answer["inodes"]
    into.subdirs += [(k, d) for k, d in answer["subdirs"]]
    into.errors += answer["errors"]
    into.links_skipped += answer["links_skipped"]
    into.unreadable += answer["unreadable"]


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
