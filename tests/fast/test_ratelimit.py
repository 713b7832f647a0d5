"""The shared Globus token bucket (rate_take, rate_slow) against the embedded Redis.
Assertions are on what the bucket answers (requests granted, waits it computes), not
on elapsed time."""

from __future__ import annotations

import redis

from xtract_service import keys
from xtract_service.globus.ratelimit import FLOOR, RateLimiter


def test_a_burst_is_granted_then_the_next_request_waits_about_one_interval(
    r: redis.Redis,
) -> None:
    bucket = RateLimiter(r, "alice", rate=10, burst=3)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = bucket.try_take()
    assert 0 < wait <= 0.1  # one request's share of a second at 10/s, less any refill


def test_every_worker_of_an_owner_shares_one_bucket_and_other_owners_do_not(
    r: redis.Redis,
) -> None:
    one, two = RateLimiter(r, "alice", rate=5, burst=2), RateLimiter(r, "alice", rate=5, burst=2)
    assert one.try_take() == 0.0 and two.try_take() == 0.0
    assert one.try_take() > 0 and two.try_take() > 0  # the two took the one burst
    assert RateLimiter(r, "bob", rate=5, burst=2).try_take() == 0.0


def test_a_429_pauses_every_worker_and_halves_the_rate_once_per_burst(r: redis.Redis) -> None:
    one, two = RateLimiter(r, "alice", rate=20, burst=5), RateLimiter(r, "alice", rate=20)
    assert one.try_take() == 0.0
    assert one.slow_down(2.0) == 10.0
    assert two.slow_down(0.0) == 10.0  # the same burst's other 429: not halved again
    assert 1.5 < two.try_take() <= 2.0  # paused for the Retry-After, for both workers
    assert 1.5 < one.try_take() <= 2.0


def test_after_a_pause_the_rate_climbs_back_to_below_where_it_was_refused(
    r: redis.Redis,
) -> None:
    bucket = RateLimiter(r, "alice", rate=50, burst=100)
    bucket.slow_down(0.0)  # refused at 50: halved to 25, ceiling 45
    r.hset(keys.globus_rate("alice"), mapping={"paused_until": 0, "tokens": 100})
    rates, ceilings = [], []
    for _ in range(30):
        assert bucket.try_take() == 0.0
        rates.append(float(r.hget(keys.globus_rate("alice"), "rate") or 0))
        ceilings.append(float(r.hget(keys.globus_rate("alice"), "ceiling") or 0))
    assert rates[0] == 26.0  # 25 after the halving, plus a fiftieth of 50
    assert rates == sorted(rates) and 45 < rates[-1] == ceilings[-1] < 50
    assert ceilings[0] == 45 * 1.002  # the ceiling creeps up, 0.2% a request


def test_many_429s_in_a_row_never_stop_the_crawl(r: redis.Redis) -> None:
    bucket = RateLimiter(r, "alice", rate=20)
    for _ in range(30):
        r.hset(keys.globus_rate("alice"), "paused_until", 0)  # each 429 a new burst
        rate = bucket.slow_down(0.0)
    assert rate == FLOOR
    assert 0 < bucket.try_take() <= 1 / FLOOR
