"""``GET /health``: the one route that needs no token."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from xtract_service import __version__

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> Any:
    try:
        request.app.state.redis.ping()
    except redis.RedisError as exc:
        return JSONResponse(
            {"status": "degraded", "redis": f"unreachable: {exc}", "version": __version__},
            status_code=503,
        )
    return {"status": "ok", "redis": "ok", "version": __version__}
