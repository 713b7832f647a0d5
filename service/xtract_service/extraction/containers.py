"""Which container image serves which extractor family on a Globus Compute (funcX)
endpoint, as registered by an owner; they reach the endpoint with each batch."""

from __future__ import annotations

import uuid
from typing import Any

import redis
from pydantic import BaseModel, ConfigDict, Field

from xtract_extractors.kinds import container_families
from xtract_service import keys
from xtract_service.bounds import MAX_ITEMS, Name, PathText
from xtract_service.errors import BadRequest
from xtract_service.redis_client import Mapping, hash_of


class ContainerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    container_path: PathText | None = Field(
        None, description="folder on the endpoint holding xtract-<family>.sif images"
    )
    containers: dict[Name, PathText] = Field(
        default_factory=dict,
        max_length=MAX_ITEMS,
        description="family (or extractor, or 'default') -> image",
    )


def register_containers(
    r: redis.Redis, endpoint_id: str, owner: str, req: ContainerRequest
) -> dict[str, Any]:
    """Replace the owner's images for this endpoint; returns what is now registered."""
    try:
        endpoint_id = str(uuid.UUID(endpoint_id))
    except ValueError:
        raise BadRequest(f"{endpoint_id!r} is not an endpoint UUID", "bad_endpoint") from None
    if not req.container_path and not req.containers:
        raise BadRequest("give container_path or containers", "no_containers")
    by_extractor = container_families()
    families = sorted(set(by_extractor.values()))
    mapping: dict[str, str] = {}
    if req.container_path:
        base = req.container_path.rstrip("/")
        mapping = {fam: f"{base}/xtract-{fam}.sif" for fam in families}
    for name, image in req.containers.items():
        fam = by_extractor.get(name, name)
        if fam not in families and fam != "default":
            raise BadRequest(
                f"unknown extractor or family {name!r}; families: {', '.join(families)}",
                "bad_family",
            )
        mapping[fam] = image
    k = keys.containers(owner, endpoint_id)
    pipe = r.pipeline(transaction=True)
    pipe.delete(k)
    pipe.hset(k, mapping=Mapping(mapping))
    pipe.execute()
    return {"endpoint_id": endpoint_id, "containers": mapping}


def registered_containers(r: redis.Redis, endpoint_id: str, owner: str) -> dict[str, Any]:
    return {
        "endpoint_id": endpoint_id,
        "containers": hash_of(r, keys.containers(owner, endpoint_id)),
    }
