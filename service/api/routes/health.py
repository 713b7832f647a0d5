"""``GET /health``: the one route that needs no token."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from xtract_service import __version__
from xtract_service.api.deps import Redis

router = APIRouter(tags=["health"])


@router.get("/health")
def health(r: Redis) -> Any:
    try:
        r.ping()
    except redis.RedisError as exc:
        return JSONResponse(
            {"status": "degraded", "redis": f"unreachable: {exc}", "version": __version__},
            status_code=503,
        )
    return {"status": "ok", "redis": "ok", "version": __version__}
