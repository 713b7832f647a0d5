"""One owner's Globus requests, shared by every crawl worker on every host: a token
bucket in Redis (``owner:{owner}:globus_rate``, the ``rate_take`` and ``rate_slow``
scripts).

Globus documents a rate limit of about 20 requests per second per user;
``globus_requests_per_second`` (default 20) is that setting. Each listing page takes
one request from the bucket first; a 429 pauses the whole bucket (every worker of the
owner) for its ``Retry-After`` and halves the rate, which climbs back as requests
succeed. Waits are what the bucket computes, never a fixed sleep.
"""

from __future__ import annotations

import time

import redis

from xtract_service import keys, scripts

# the lowest rate a run of 429s brings the bucket to (requests per second)
FLOOR = 0.5


class RateLimiter:
    """The shared bucket of one owner's Globus requests."""

    def __init__(self, r: redis.Redis, owner: str, rate: float, burst: float = 1.0) -> None:
        # burst 1: requests are paced, 1/rate apart. A bigger burst lets a sliding second
        # hold burst + rate requests, more than a limit of ``rate`` per second allows
        self.key = keys.globus_rate(owner)
        self.rate = max(FLOOR, rate)
        self.burst = max(1.0, burst)
        self._take = scripts.load(r, "rate_take")
        self._slow = scripts.load(r, "rate_slow")

    def try_take(self) -> float:
        """Take one request if the bucket has one: 0.0, else the seconds to wait."""
        return int(self._take(keys=[self.key], args=[self.rate, self.burst])) / 1000

    def take(self, most: float = 60.0) -> None:
        """Wait until the bucket grants a request (at most ``most`` seconds in all)."""
        deadline = time.monotonic() + most
        while (wait := self.try_take()) > 0:
            wait = min(wait, deadline - time.monotonic())
            if wait <= 0:
                return  # the bucket is stuck (a clock jump?): go ahead, a 429 will tell
            time.sleep(wait)

    def slow_down(self, retry_after: float) -> float:
        """A 429 came back: pause every worker of the owner, halve the rate; returns it."""
        return float(self._slow(keys=[self.key], args=[retry_after, self.rate, FLOOR]))
