"""The process's connection to Redis."""

from __future__ import annotations

import redis


def connect(url: str) -> redis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` or ``unix://``) that retries
    briefly across a Redis restart."""
    options: dict[str, object] = {"health_check_interval": 30, "retry_on_timeout": True}
    if not url.startswith("unix://"):
        options["socket_keepalive"] = True
    return redis.Redis.from_url(url, **options)
