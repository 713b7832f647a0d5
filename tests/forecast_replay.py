"""Replaying breadth-first crawls of trees whose truth is known, for the forecast's
test (`tests/fast/test_forecast.py`) and its calibration (`bench/bench_forecast.py`):
a tree is its folders as ``(depth, sub-folders, files, bytes)`` in the order a
breadth-first crawl lists them, and a probe is the levels hash the crawl would hold
after listing the first ``n`` of them."""

from __future__ import annotations

import os
import random
from collections import deque
from typing import Any

from xtract_service.forecast import crawl_forecast

Tree = list[tuple[int, int, int, int]]


def real_tree(root: str) -> Tree:
    """A folder of this machine as a tree (symbolic links not followed)."""
    out: Tree = []
    queue = deque([(root, 0)])
    while queue:
        folder, depth = queue.popleft()
        subs: list[str] = []
        files = nbytes = 0
        try:
            with os.scandir(folder) as entries:
                for e in entries:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            subs.append(e.path)
                        elif e.is_file(follow_symlinks=False):
                            files += 1
                            nbytes += e.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            pass
        out.append((depth, len(subs), files, nbytes))
        queue.extend((s, depth + 1) for s in sorted(subs))
    return out


def random_tree(rng: random.Random) -> Tree:
    """A random tree: a fan-out per depth (2-8, a few levels), files per folder 0-60."""
    fanouts = [rng.randint(2, 8) for _ in range(rng.randint(2, 6))]
    per = rng.randint(1, 30)
    out: Tree = []
    queue = deque([0])
    while queue:
        d = queue.popleft()
        k = rng.randint(max(0, fanouts[d] - 2), fanouts[d] + 2) if d < len(fanouts) else 0
        files = rng.randint(0, per * 2)
        out.append((d, k, files, 7 * files))
        queue.extend([d + 1] * k)
    return out


def fields_upto(tree: Tree, upto: int) -> dict[str, str]:
    """The crawl's levels hash after listing the first ``upto`` folders."""
    fields: dict[str, int] = {}
    for d, k, f, b in tree[:upto]:
        for name, v in (
            ("listed", 1),
            ("subdirs", k),
            ("files", f),
            ("bytes", b),
            ("squares", f * f),
        ):
            fields[f"{d}:{name}"] = fields.get(f"{d}:{name}", 0) + v
    return {k: str(v) for k, v in fields.items()}


def probe(tree: Tree, upto: int, seconds: float | None = None) -> dict[str, Any] | None:
    """The forecast after listing ``upto`` folders (at one folder a second)."""
    found = sum(t[2] for t in tree[:upto])
    counts = {"files": found, "bytes": sum(t[3] for t in tree[:upto]), "dirs_done": upto}
    return crawl_forecast(
        fields_upto(tree, upto), 1, counts, float(upto if seconds is None else seconds), False
    )
