"""Fair shares between owners: workers take crawls one owner at a time, so an owner
with a hundred crawls does not crowd out an owner with one."""

from __future__ import annotations

from xtract_service.streams import fair_order


def test_an_owner_with_many_crawls_gets_no_more_turns_than_one_with_a_single_crawl() -> None:
    crawls = [f"alice-{i:03d}" for i in range(100)] + ["bob-000"]
    for turn in range(4):
        first_two = fair_order(crawls, lambda c: c.split("-")[0], turn)[:2]
        assert {c.split("-")[0] for c in first_two} == {"alice", "bob"}


def test_every_crawl_keeps_its_place_within_its_owner_and_none_is_lost() -> None:
    crawls = ["a1", "b1", "a2", "c1", "a3", "b2"]
    order = fair_order(crawls, lambda c: c[0], 2)
    assert sorted(order) == sorted(crawls)
    assert [c for c in order if c[0] == "a"] == ["a1", "a2", "a3"]
    assert order[:3] == ["c1", "a1", "b1"]  # the third owner starts on turn 2
