"""Chunked stores as one dataset: a Zarr (v2 or v3) or N5 store is a folder tree of
metadata files and thousands of chunk files, and a crawl that listed it folder by folder
would make every chunk a family of its own, its bytes a file nobody can read. When a
listed folder is a store's root, its whole tree is listed at once (up to
:data:`MAX_STORE_FILES` files and :data:`MAX_STORE_FOLDERS` folders; past that the rest
is crawled as usual), its files named by their path inside the store, and the crawl
makes them one family, every file in a group the ``zarr`` extractor reads (chunk files
by name only).

A folder is a store's root when it holds ``.zgroup`` or ``.zarray`` (Zarr v2),
``zarr.json`` (v3), or ``attributes.json`` with a name ending ``.n5``, and is not inside
a store already listed (a crawl that starts inside a store sees that part as one).
"""

from __future__ import annotations

from typing import Any

from xtract_service.crawl.repos import Listing, Repo

MAX_STORE_FILES = 10_000
MAX_STORE_FOLDERS = 2_000
STORE_EXTRACTOR = "zarr"
_MARKERS = frozenset({".zgroup", ".zarray", "zarr.json"})


def is_store_root(folder: str, listing: Listing) -> bool:
    names = {f[0] for f in listing.files}
    if names & _MARKERS:
        return True
    return folder.rstrip("/").endswith(".n5") and "attributes.json" in names


def absorb_stores(repo: Repo, pairs: list[tuple[str, Listing]]) -> set[str]:
    """List the trees of the store roots among ``pairs`` into their listings (files
    named ``sub/dir/chunk``; the folders listed leave ``subdirs``); the roots found."""
    roots: set[str] = set()
    for folder, listing in pairs:
        if listing.files and is_store_root(folder, listing):
            _absorb(repo, folder, listing)
            roots.add(folder)
    return roots


def _absorb(repo: Repo, root: str, listing: Listing) -> None:
    stamped = len(listing.stamps) == len(listing.files)
    todo = list(listing.subdirs)
    left: list[tuple[str, str]] = []
    folders = 0
    base = root.rstrip("/") + "/"
    while todo:
        key, sub = todo.pop(0)
        if folders >= MAX_STORE_FOLDERS or len(listing.files) >= MAX_STORE_FILES:
            left.append((key, sub))
            continue
        found = repo.list_dir(sub)
        folders += 1
        prefix = sub[len(base) :].strip("/") + "/" if sub.startswith(base) else ""
        if not prefix:  # a link out of the store: crawled as usual
            left.append((key, sub))
            continue
        too_many = len(listing.files) + len(found.files) > MAX_STORE_FILES
        if too_many or any(len(f) > 3 for f in found.files):  # or a name not UTF-8
            left.append((key, sub))  # this folder and below: crawled as usual
            continue
        listing.files += [[prefix + f[0], f[1], f[2]] for f in found.files]
        if stamped and len(found.stamps) == len(found.files):
            listing.stamps += found.stamps
        else:
            stamped = False
        todo += found.subdirs
        listing.errors += found.errors
        listing.links_skipped += found.links_skipped
        listing.unreadable += found.unreadable
    if not stamped:
        listing.stamps = []
    listing.subdirs = left


def store_family(n_files: int) -> list[Any]:
    """The grouper answer for a store root's listing: one family, one group a file."""
    return [[[[i], STORE_EXTRACTOR] for i in range(n_files)]]
