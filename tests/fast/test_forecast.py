"""The forecast, on trees whose truth is known: a breadth-first crawl of random trees
is replayed level by level, and at points along the way the forecast's range must hold
the true number of files (nearly always: it is three standard deviations wide), and at
the end it must be exact."""

from __future__ import annotations

import random
from collections import deque

from xtract_service.forecast import crawl_forecast, extraction_forecast


def random_tree(rng: random.Random) -> list[tuple[int, int, int]]:
    """(depth, sub-folders, files) per folder, in breadth-first order."""
    fanouts = [rng.randint(2, 8) for _ in range(rng.randint(2, 6))]
    per = rng.randint(1, 30)
    out: list[tuple[int, int, int]] = []
    queue = deque([0])
    while queue:
        d = queue.popleft()
        k = rng.randint(max(0, fanouts[d] - 2), fanouts[d] + 2) if d < len(fanouts) else 0
        out.append((d, k, rng.randint(0, per * 2)))
        queue.extend([d + 1] * k)
    return out


def replay(tree: list[tuple[int, int, int]], upto: int) -> dict[str, str]:
    fields: dict[str, int] = {}
    for d, k, f in tree[:upto]:
        for name, v in (("listed", 1), ("subdirs", k), ("files", f), ("bytes", 7 * f)):
            fields[f"{d}:{name}"] = fields.get(f"{d}:{name}", 0) + v
        fields[f"{d}:squares"] = fields.get(f"{d}:squares", 0) + f * f
    return {k: str(v) for k, v in fields.items()}


def test_the_range_holds_the_true_file_count_along_the_crawl_and_is_exact_at_the_end() -> None:
    rng = random.Random(14)
    held = probes = 0
    for _ in range(40):
        tree = random_tree(rng)
        truth = sum(f for _, _, f in tree)
        for share in (0.1, 0.25, 0.5, 0.75):
            upto = max(1, int(len(tree) * share))
            found = sum(f for _, _, f in tree[:upto])
            counts = {"files": found, "bytes": 7 * found, "dirs_done": upto}
            fc = crawl_forecast(replay(tree, upto), 1, counts, float(upto), False)
            assert fc is not None
            assert fc["files"]["low"] <= fc["files"]["estimate"] <= fc["files"]["high"]
            assert fc["files"]["low"] >= found  # never less than already found
            assert fc["seconds_left"]["estimate"] >= 0
            probes += 1
            held += fc["files"]["low"] <= truth <= fc["files"]["high"]
        # every folder listed: the projection has nothing left to guess
        counts = {"files": truth, "bytes": 7 * truth, "dirs_done": len(tree)}
        fc = crawl_forecast(replay(tree, len(tree)), 1, counts, 1.0, False)
        assert fc is not None
        assert fc["files"] == {"low": truth, "estimate": truth, "high": truth}
        assert fc["folders"]["estimate"] == len(tree)
        assert fc["seconds_left"]["high"] == 0
    assert held >= 0.85 * probes, (held, probes)


def test_a_level_known_to_end_the_tree_makes_the_folder_count_exact() -> None:
    # a root with 3 folders, each with 2 leaves (2 files each): listed up to the first
    # leaf, which has no sub-folder, every folder of the tree is known
    tree = [(0, 3, 1), (1, 2, 5), (1, 2, 5), (1, 2, 5)] + [(2, 0, 2)] * 6
    counts = {"files": 18, "bytes": 0, "dirs_done": 5}
    before = crawl_forecast(replay(tree, 4), 1, {**counts, "files": 16}, 1.0, False)
    assert before is not None and before["folders"]["high"] > 10  # leaves might go on
    fc = crawl_forecast(replay(tree, 5), 1, counts, 1.0, False)
    assert fc is not None
    assert fc["folders"] == {"low": 10, "estimate": 10, "high": 10}
    assert fc["files"]["estimate"] == 18 + 5 * 2  # the other leaves like the first one
    assert fc["seconds_left"]["estimate"] == 1  # five folders at five a second


def test_a_finished_crawl_forecasts_its_own_counts_and_no_time() -> None:
    counts = {"files": 10, "bytes": 99, "dirs_done": 3}
    fc = crawl_forecast({}, 1, counts, 5.0, True)
    assert fc is not None
    assert fc["files"]["estimate"] == 10 and fc["seconds_left"]["high"] == 0


def test_nothing_listed_yet_has_no_forecast() -> None:
    assert crawl_forecast({}, 1, {"files": 0, "bytes": 0, "dirs_done": 0}, 1.0, False) is None


def test_an_extraction_forecast_comes_from_its_measured_rates() -> None:
    rates: dict[str, dict[str, float]] = {
        "tabular": {"files": 10.0, "seconds": 1.0},
        "keyword": {"files": 10, "seconds": 4},
    }
    fc = extraction_forecast(100, 20, 10.0, rates, False)
    assert fc is not None
    assert fc["families_per_second"] == 2.0
    assert fc["seconds_left"]["estimate"] == 50
    assert fc["seconds_left"]["low"] < 50 < fc["seconds_left"]["high"]
    assert fc["per_extractor"]["keyword"]["files_per_second"] == 2.5
    assert extraction_forecast(100, 0, 0.0, {}, False) is None
    done = extraction_forecast(0, 20, 10.0, rates, True)
    assert done is not None and done["seconds_left"]["estimate"] == 0
