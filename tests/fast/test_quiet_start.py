"""A quiet start and a quiet stop: building the app and its OpenAPI schema (what
``xtract serve`` and ``/docs`` do) warns about nothing, FastAPI's duplicate operation
ids included; an asyncio Redis client closed leaves no connection to warn when it is
collected."""

from __future__ import annotations

import asyncio
import gc
import warnings

from xtract_service.app import create_app
from xtract_service.redis_client import connect_async
from xtract_service.redis_server import EmbeddedRedis


def test_the_app_and_its_schema_build_without_a_warning() -> None:
    gc.collect()  # what earlier tests in this process left is theirs to answer for
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = create_app().openapi()
    assert [str(w.message) for w in caught] == []
    ids = [op["operationId"] for path in schema["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))


def test_a_closed_async_client_leaves_no_connection_open(embedded: EmbeddedRedis) -> None:
    async def use_and_close() -> None:
        ar = connect_async(embedded.url)
        assert await asyncio.gather(*(ar.ping() for _ in range(3))) == [True] * 3
        await ar.aclose()

    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(use_and_close())
        gc.collect()
    assert [str(w.message) for w in caught if "unclosed" in str(w.message)] == []
