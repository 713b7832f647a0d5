"""The forecast, on trees whose truth is known (``tests/forecast_replay.py``): breadth-
first crawls of random trees and of real folders of this machine are replayed folder by
folder, and at points along the way the range must hold the true number of files at
least nine times in ten after the first 5% of the work, the estimate be within 2x after
20%, no bound be beyond what the calibration allows (never the 10^13 files of old), and
at the end it must be exact. ``bench/bench_forecast.py`` runs the full calibration."""

from __future__ import annotations

import random

from tests.forecast_replay import Tree, probe, random_tree, real_tree
from xtract_service.forecast import CALIBRATION, crawl_forecast, extraction_forecast

WIDEST = max(high for _, _, high in CALIBRATION)


def check(trees: list[Tree]) -> tuple[int, int, int, int]:
    """(probes after 5% that held the truth, of how many; after 20% within 2x, of how
    many), each forecast sane: ordered, never below what was found, bounded."""
    held = probes = close = late = 0
    for tree in trees:
        truth = sum(t[2] for t in tree)
        for pct in range(6, 100, 4):
            upto = round(len(tree) * pct / 100)
            if not 0 < upto < len(tree):
                continue
            fc = probe(tree, upto)
            assert fc is not None
            f = fc["files"]
            found = sum(t[2] for t in tree[:upto])
            assert found <= f["low"] <= f["estimate"] <= f["high"]
            assert f["high"] <= max((f["estimate"] + 1) * WIDEST, found)
            assert fc["seconds_left"]["high"] <= fc["folders"]["high"]  # a folder a second
            probes += 1
            held += f["low"] <= truth <= f["high"]
            if pct >= 20:
                late += 1
                close += truth / 2 <= f["estimate"] <= truth * 2
        # every folder listed: the projection has nothing left to guess
        fc = probe(tree, len(tree))
        assert fc is not None and fc["files"]["low"] == fc["files"]["high"] == truth
        assert fc["folders"]["estimate"] == len(tree) and fc["seconds_left"]["high"] == 0
    return held, probes, close, late


def test_random_and_real_trees_replayed_hold_the_truth_nine_times_in_ten() -> None:
    rng = random.Random(21)  # not one of the calibration's seeds
    trees = [t for t in (random_tree(rng) for _ in range(30)) if len(t) > 20]
    trees += [real_tree("/usr/share/doc"), real_tree("/etc")]
    held, probes, close, late = check(trees)
    assert held >= 0.9 * probes, (held, probes)
    assert close >= 0.9 * late, (close, late)


def test_a_forecast_says_it_is_estimating_until_enough_is_seen() -> None:
    tree = random_tree(random.Random(5))
    first = probe(tree, 1)
    assert first is not None and first["estimating"] is True
    later = probe(tree, len(tree) // 2)
    assert later is not None and later["estimating"] is False


def test_a_level_known_to_end_the_tree_makes_the_folder_count_exact() -> None:
    # a root with 3 folders, each with 2 leaves (2 files each): listed up to the first
    # leaf, which has no sub-folder, every folder of the tree is found
    tree = [(0, 3, 1, 0), (1, 2, 5, 0), (1, 2, 5, 0), (1, 2, 5, 0)] + [(2, 0, 2, 0)] * 6
    fc = probe(tree, 5)
    assert fc is not None
    assert fc["folders"]["estimate"] == fc["folders"]["low"] == 10  # none below the leaves
    assert fc["files"]["estimate"] == 18 + 5 * 2  # the other leaves like the first one
    assert fc["seconds_left"]["estimate"] == 5  # five folders at one a second


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
