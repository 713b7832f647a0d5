"""``/v1/endpoints/{id}/containers``: which container image serves which extractor
family on a Globus Compute (funcX) endpoint."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from xtract_extractors.kinds import CONTAINER_FAMILIES
from xtract_service.api.deps import Owner
from xtract_service.api.errors import ApiError
from xtract_service.crawl import keys

router = APIRouter(prefix="/v1/endpoints", tags=["endpoints"])
FAMILIES = sorted(set(CONTAINER_FAMILIES.values()))


class ContainerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    container_path: str | None = Field(
        None, description="folder on the endpoint holding xtract-<family>.sif images"
    )
    containers: dict[str, str] = Field(
        default_factory=dict, description="family (or extractor, or 'default') -> image"
    )


def register_containers(
    request: Request, endpoint_id: str, owner: str, body: ContainerRequest
) -> dict[str, Any]:
    try:
        endpoint_id = str(uuid.UUID(endpoint_id))
    except ValueError:
        raise ApiError(400, "bad_endpoint", f"{endpoint_id!r} is not an endpoint UUID") from None
    if not body.container_path and not body.containers:
        raise ApiError(400, "no_containers", "give container_path or containers")
    mapping: dict[str, str] = {}
    if body.container_path:
        base = body.container_path.rstrip("/")
        mapping = {fam: f"{base}/xtract-{fam}.sif" for fam in FAMILIES}
    for name, image in body.containers.items():
        fam = CONTAINER_FAMILIES.get(name, name)
        if fam not in FAMILIES and fam != "default":
            raise ApiError(
                400,
                "bad_family",
                f"unknown extractor or family {name!r}; families: {', '.join(FAMILIES)}",
            )
        mapping[fam] = image
    r = request.app.state.redis
    k = keys.containers(owner, endpoint_id)
    r.delete(k)
    r.hset(k, mapping=mapping)
    return {"endpoint_id": endpoint_id, "containers": mapping}


@router.post("/{endpoint_id}/containers")
def set_containers(
    endpoint_id: str, body: ContainerRequest, request: Request, owner: str = Owner
) -> dict[str, Any]:
    """Record the images that serve each extractor family on this endpoint. They reach
    the endpoint with each batch as ``user_endpoint_config``."""
    return register_containers(request, endpoint_id, owner, body)


@router.get("/{endpoint_id}/containers")
def get_containers(endpoint_id: str, request: Request, owner: str = Owner) -> dict[str, Any]:
    raw = request.app.state.redis.hgetall(keys.containers(owner, endpoint_id))
    return {
        "endpoint_id": endpoint_id,
        "containers": {k.decode(): v.decode() for k, v in raw.items()},
    }
