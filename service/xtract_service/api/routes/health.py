"""``GET /health``: the one route that needs no token."""

from __future__ import annotations

import os
from typing import Any

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from xtract_service import __version__
from xtract_service.api.deps import AppSettings, Redis

router = APIRouter(tags=["health"])


@router.get("/health")
def health(r: Redis, settings: AppSettings) -> Any:
    """Liveness, and how to authenticate: ``auth.mode`` is ``local`` or ``globus``; in
    Globus mode ``auth.scope`` and ``auth.resource_server`` tell a client what to log
    in for (the SDK reads them)."""
    try:
        r.ping()
    except redis.RedisError as exc:
        return JSONResponse(
            {"status": "degraded", "redis": f"unreachable: {exc}", "version": __version__},
            status_code=503,
        )
    auth: dict[str, Any] = {"mode": settings.auth}
    if settings.auth == "globus":
        auth.update(
            scope=settings.xtract_scope,
            resource_server=settings.globus_client_id,
            native_client_id=settings.globus_native_client_id,
        )
    # which API process answered (xtract serve runs several on one socket)
    process = os.getpid()
    return {"status": "ok", "redis": "ok", "version": __version__, "auth": auth, "process": process}
