"""The walker that runs on a Globus Compute endpoint: :func:`walk_folders` lists a
collection's folders with the local walker and goes on down the tree.

This module is shipped to endpoints: it imports the standard library, the local lister
and the safe-path module only (no Redis, no web framework, no Globus client), which a
test holds it to.
"""

from __future__ import annotations

import posixpath
from typing import Any

PAGE_ENTRIES = 50_000  # entries per task's answer: a few MB, well inside Compute's limits
MAX_FOLDERS = 10_000  # folders per task's answer


def _local(root: str, path: str) -> str:
    """The endpoint host's path of a collection path (``..`` cannot climb out of root)."""
    clean = posixpath.normpath("/" + path.lstrip("/"))
    return posixpath.join(root, clean.lstrip("/")) if clean != "/" else root


def _collection(root: str, local: str) -> str:
    """The collection path of a path on the endpoint's host."""
    rest = local[len(root) :] if root != "/" else local
    return "/" + rest.lstrip("/")


def walk_folders(
    root: str,
    crawl_roots: list[str],
    folders: list[list[Any]],
    page_entries: int = PAGE_ENTRIES,
    skip: list[str] | None = None,
    follow_symlinks: bool = False,
    max_folders: int = MAX_FOLDERS,
) -> dict[str, Any]:
    """Runs on the Compute endpoint: list ``folders`` (``[collection path, offset]``)
    with the local walker, inside ``crawl_roots``, then their sub-folders breadth-first,
    until about ``page_entries`` entries or ``max_folders`` folders are gathered.

    Returns ``{"listed": [{path, files, stamps, subdirs: [[key, path]], errors,
    links_skipped, unreadable}], "left": [[path, offset]]}``: the folders listed (a
    folder cut at the page's end is in both, with the offset to go on from), and those
    not reached (the asked-for ones first). Sub-folders and errors come with a folder's
    first page; a listed folder's sub-folders that are not themselves listed are left
    for the crawl's frontier.
    """
    from collections import deque

    from xtract_service.crawl.repos.local import LocalRepo

    repo = LocalRepo([_local(root, r) for r in crawl_roots], skip, follow_symlinks)
    room = max(1, page_entries)
    queue: deque[list[Any]] = deque([list(f) for f in folders])
    asked = {f[0] for f in folders}
    listed: list[dict[str, Any]] = []
    while queue and room > 0 and len(listed) < max_folders:
        path, offset = queue[0]
        listing = repo.list_dir(_local(root, path))
        whole = len(listing.files) - offset + len(listing.subdirs)
        if whole > room and listed and path not in asked:
            break  # a sub-folder that does not fit: the frontier takes it
        queue.popleft()
        files = listing.files[offset : offset + room]
        end = offset + len(files)
        first = offset == 0
        subdirs = [[_collection(root, k), _collection(root, d)] for k, d in listing.subdirs]
        listed.append(
            {
                "path": path,
                "files": files,
                "stamps": listing.stamps[offset : offset + room],
                "subdirs": subdirs if first else [],
                "errors": [{**e, "path": _collection(root, e["path"])} for e in listing.errors]
                if first
                else [],
                "links_skipped": listing.links_skipped if first else 0,
                "unreadable": listing.unreadable if first else 0,
            }
        )
        room -= len(files) + len(subdirs)
        if end < len(listing.files):
            queue.appendleft([path, end])  # cut at the page's end: go on from here
            break
        if first:
            queue.extend([d, 0] for _, d in subdirs)
    return {"listed": listed, "left": list(queue)}
