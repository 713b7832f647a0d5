"""``/v1/endpoints/{id}/containers``: which container image serves which extractor
family on a Globus Compute (funcX) endpoint."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from xtract_service.api.deps import Owner, Redis
from xtract_service.extraction.containers import (
    ContainerRequest,
    register_containers,
    registered_containers,
)

router = APIRouter(prefix="/v1/endpoints", tags=["endpoints"])


@router.post("/{endpoint_id}/containers")
def set_containers(
    endpoint_id: str, body: ContainerRequest, owner: Owner, r: Redis
) -> dict[str, Any]:
    """Record the images that serve each extractor family on this endpoint. They reach
    the endpoint with each batch as ``user_endpoint_config``."""
    return register_containers(r, endpoint_id, owner, body)


@router.get("/{endpoint_id}/containers")
def get_containers(endpoint_id: str, owner: Owner, r: Redis) -> dict[str, Any]:
    return registered_containers(r, endpoint_id, owner)
