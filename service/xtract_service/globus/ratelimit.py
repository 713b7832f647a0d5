"""One owner's Globus requests, shared by every crawl worker on every host: a token
bucket in Redis (``owner:{owner}:globus_rate``, the ``rate_take`` and ``rate_slow``
scripts).

Globus documents a rate limit of about 20 requests per second per user;
``globus_requests_per_second`` (default 20) is that setting. Every request a client of
:mod:`xtract_service.globus.clients` sends for an owner (a listing page, a staging or
offload transfer and its polls, a Search ingest, a Compute submission or poll) takes
one request from the bucket first (:class:`PacedAdapter`); a 429 pauses the whole
bucket (every process of the owner) for its ``Retry-After`` and halves the rate, which
climbs back as requests succeed; globus-sdk's retry then asks again. Waits are what the
bucket computes, never a fixed sleep.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import redis
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from xtract_service import keys, scripts
from xtract_service.settings import Settings

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


def retry_after(headers: Mapping[str, str]) -> float:
    """The seconds a 429 asks to wait (its Retry-After header; 1 when it gives none)."""
    try:
        return min(60.0, max(0.0, float(headers.get("Retry-After", "1"))))
    except (TypeError, ValueError):
        return 1.0


class PacedAdapter(HTTPAdapter):
    """A connection pool whose every request first takes from an owner's bucket, and
    whose 429s pause that bucket. Mounted on a globus-sdk client's session."""

    def __init__(self, limiter: RateLimiter, connections: int = 10) -> None:
        super().__init__(pool_connections=4, pool_maxsize=max(10, connections))
        self.limiter = limiter

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        self.limiter.take()
        response = super().send(request, *args, **kwargs)
        if response.status_code == 429:
            self.limiter.slow_down(retry_after(response.headers))
        return response


def owner_bucket(r: redis.Redis, owner: str, settings: Settings) -> RateLimiter:
    """``owner``'s bucket at the service's configured rate."""
    return RateLimiter(r, owner, settings.globus_requests_per_second)
