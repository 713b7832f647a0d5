"""Offload and notifications: ``/v1/crawls/{id}/offload`` (export and move the
metadata), ``/v1/crawls/{id}/search`` (ingest into a Globus Search index),
``/v1/crawls/{id}/webhooks``, and ``/v1/formats``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from xtract_service.api.deps import AppSettings, Owner, Store
from xtract_service.api.errors import ApiError
from xtract_service.crawl import keys
from xtract_service.crawl.store import CrawlNotFound, CrawlStore
from xtract_service.offload.formats import describe_formats
from xtract_service.offload.job import OffloadRequest, OffloadStore, validate_request
from xtract_service.offload.pipeline import Filter, Transform
from xtract_service.settings import Settings

router = APIRouter(tags=["offload"])


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index_id: str
    filters: list[Filter] = Field(default_factory=list)
    transform: Transform = Field(default_factory=Transform)
    format_params: dict[str, Any] = Field(default_factory=dict, description="visible_to, ...")
    timeout: float = Field(600, gt=0)
    tokens: dict[str, str] = Field(default_factory=dict, description="{'Search': '...'}")


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urls: list[str] = Field(min_length=1, max_length=20)


def _offloads(request: Request) -> OffloadStore:
    return OffloadStore(request.app.state.redis)


def start_offload(
    request: Request,
    crawl_id: str,
    owner: str,
    req: OffloadRequest,
    crawls: CrawlStore,
    settings: Settings,
) -> dict[str, Any]:
    crawls.get(crawl_id, owner)
    r = request.app.state.redis
    if not r.exists(keys.xtract(crawl_id)):
        raise ApiError(
            409, "no_metadata", "no metadata to offload yet: run xtract on this crawl first"
        )
    try:
        validate_request(req, settings)
    except ValueError as exc:
        raise ApiError(400, "bad_offload", str(exc)) from None
    secrets = {k: v for k, v in req.tokens.items() if k in ("Transfer", "Search")}
    store = _offloads(request)
    oid = store.create(crawl_id, owner, req, secrets)
    return store.status(oid)


@router.post("/v1/crawls/{crawl_id}/offload", status_code=202)
def create_offload(
    crawl_id: str,
    body: OffloadRequest,
    request: Request,
    response: Response,
    owner: str = Owner,
    crawls: CrawlStore = Store,
    settings: Settings = AppSettings,
) -> dict[str, Any]:
    """Export the crawl's metadata in a format, filtered and transformed, into a new
    folder ``dest_path/YYYY-MM-DD-hh:mm:ss`` here or on a Globus endpoint."""
    status = start_offload(request, crawl_id, owner, body, crawls, settings)
    response.headers["Location"] = f"/v1/crawls/{crawl_id}/offload/{status['offload_id']}"
    return status


@router.post("/v1/crawls/{crawl_id}/search", status_code=202)
def create_search_ingest(
    crawl_id: str,
    body: SearchRequest,
    request: Request,
    response: Response,
    owner: str = Owner,
    crawls: CrawlStore = Store,
    settings: Settings = AppSettings,
) -> dict[str, Any]:
    """Ingest the crawl's metadata into a Globus Search index, as GMetaList documents."""
    req = OffloadRequest(
        format="globus_search",
        format_params=body.format_params,
        filters=body.filters,
        transform=body.transform,
        move="search",
        index_id=body.index_id,
        timeout=body.timeout,
        tokens=body.tokens,
    )
    status = start_offload(request, crawl_id, owner, req, crawls, settings)
    response.headers["Location"] = f"/v1/crawls/{crawl_id}/offload/{status['offload_id']}"
    return status


@router.get("/v1/crawls/{crawl_id}/offload")
def list_offloads(
    crawl_id: str, request: Request, owner: str = Owner, crawls: CrawlStore = Store
) -> dict[str, Any]:
    """The crawl's offloads and search ingests, newest first."""
    crawls.get(crawl_id, owner)
    return {"crawl_id": crawl_id, "offloads": _offloads(request).list(crawl_id)}


@router.get("/v1/crawls/{crawl_id}/offload/{offload_id}")
def get_offload(
    crawl_id: str,
    offload_id: str,
    request: Request,
    owner: str = Owner,
    crawls: CrawlStore = Store,
) -> dict[str, Any]:
    crawls.get(crawl_id, owner)
    store = _offloads(request)
    h = store.get(offload_id) if len(offload_id) < 64 else {}
    if not h or h.get("crawl_id") != crawl_id:
        raise CrawlNotFound(f"no offload {offload_id} for crawl {crawl_id}")
    return store.status(offload_id)


@router.post("/v1/crawls/{crawl_id}/webhooks")
def add_webhooks(
    crawl_id: str,
    body: WebhookRequest,
    request: Request,
    owner: str = Owner,
    crawls: CrawlStore = Store,
) -> dict[str, Any]:
    """URLs to POST ``crawl``, ``xtract`` and ``offload`` STARTED, COMPLETED and FAILED
    events to."""
    crawls.get(crawl_id, owner)
    for url in body.urls:
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "bad_url", f"webhook {url!r} must be an http(s) URL")
    request.app.state.redis.sadd(keys.webhooks(crawl_id), *body.urls)
    return webhooks(crawl_id, request, owner, crawls)


@router.get("/v1/crawls/{crawl_id}/webhooks")
def webhooks(
    crawl_id: str, request: Request, owner: str = Owner, crawls: CrawlStore = Store
) -> dict[str, Any]:
    crawls.get(crawl_id, owner)
    r = request.app.state.redis
    failures = [json.loads(f) for f in r.lrange(keys.webhook_failures(crawl_id), 0, 19)]
    urls = sorted(u.decode() for u in r.smembers(keys.webhooks(crawl_id)))
    return {"crawl_id": crawl_id, "urls": urls, "failures": failures}


@router.get("/v1/formats")
def formats(owner: str = Owner) -> dict[str, Any]:
    """The offload formats, with their parameters."""
    return {"formats": describe_formats()}
