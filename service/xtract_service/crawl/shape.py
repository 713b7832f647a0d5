"""The frontier's shape: per depth below a crawl's roots, how many folders were listed
and what they held, added up by each commit (``crawl:{id}:levels``) and read by the
forecast (:mod:`xtract_service.forecast`).

>>> s = Shape(["/data"])
>>> s.add("/data/a", Listing(files=[["f", 10, 0.0]], subdirs=[("/data/a/b", "/data/a/b")]))
>>> s.levels()
[[1, 1, 1, 1, 10, 1]]
"""

from __future__ import annotations

from operator import itemgetter

from xtract_service.crawl.repos import Listing


def depth_below(roots: list[str], path: str) -> int:
    """How many folders down from its crawl root ``path`` is (a root is 0)."""
    best = 0
    for root in roots:
        base = root.rstrip("/")
        if path == root or path.rstrip("/") == base:
            return 0
        if path.startswith(base + "/"):
            best = max(best, len(base) + 1)
    rest = path[best:].strip("/")
    return rest.count("/") + 1 if rest else 0


_size = itemgetter(1)


class Shape:
    """One commit's additions to the crawl's levels."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.by_depth: dict[int, list[int]] = {}

    def add(self, folder: str, listing: Listing) -> None:
        depth = depth_below(self.roots, folder)
        row = self.by_depth.setdefault(depth, [depth, 0, 0, 0, 0, 0])
        n = len(listing.files)
        row[1] += 1
        row[2] += len(listing.subdirs)
        row[3] += n
        row[4] += sum(map(_size, listing.files))
        row[5] += n * n

    def levels(self) -> list[list[int]]:
        return sorted(self.by_depth.values())
