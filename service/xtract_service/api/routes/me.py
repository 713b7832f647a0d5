"""``GET /v1/me``: who the service takes the caller to be."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from xtract_service.api.deps import AppSettings, CallerDep

router = APIRouter(tags=["auth"])


@router.get("/v1/me")
def whoami(caller: CallerDep, settings: AppSettings) -> dict[str, Any]:
    """``{owner, name, auth}``: the owner crawls are kept under (a local token's owner
    or a Globus identity id), a name to show, and the service's auth mode."""
    return {"owner": caller.owner, "name": caller.name or caller.owner, "auth": settings.auth}
