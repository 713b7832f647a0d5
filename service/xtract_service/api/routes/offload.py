"""Offload and notifications: ``/v1/crawls/{id}/offload`` (export and move the
metadata), ``/v1/crawls/{id}/search`` (ingest into a Globus Search index),
``/v1/crawls/{id}/webhooks``, and ``/v1/formats``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from xtract_service.api.deps import (
    AppSettings,
    CallerDep,
    Crawls,
    Offloads,
    Owner,
    OwnerAccess,
    Reader,
    Redis,
    Runs,
    acting_tokens,
)
from xtract_service.bounds import Url
from xtract_service.crawl.start import MAX_WEBHOOKS
from xtract_service.offload.formats import PLUGIN_ERRORS, describe_formats
from xtract_service.offload.moves import describe_destinations
from xtract_service.offload.start import (
    OffloadRequest,
    SearchRequest,
    drivers_doc,
    start_offload,
)
from xtract_service.webhooks import add_webhooks, webhook_report

router = APIRouter(tags=["offload"])


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urls: list[Url] = Field(min_length=1, max_length=MAX_WEBHOOKS)


@router.post(
    "/v1/crawls/{crawl_id}/offload",
    status_code=202,
    description="Export the crawl's metadata in a format, filtered and transformed, into "
    "a new folder `dest_path/YYYY-MM-DD-hh.mm.ss` here or on a Globus endpoint, or to "
    "another destination.\n\n" + drivers_doc(),
)
def create_offload(
    crawl_id: str,
    body: OffloadRequest,
    request: Request,
    response: Response,
    caller: CallerDep,
    access: OwnerAccess,
    crawls: Crawls,
    runs: Runs,
    offloads: Offloads,
    settings: AppSettings,
) -> dict[str, Any]:
    """Export the crawl's metadata in a format, filtered and transformed, into a new
    folder ``dest_path/YYYY-MM-DD-hh.mm.ss`` here or on a Globus endpoint."""
    if body.dest_ep_id:
        body = body.model_copy(update={"tokens": acting_tokens(request, caller, body.tokens)})
    status = start_offload(crawl_id, access, body, crawls, runs, offloads, settings)
    response.headers["Location"] = f"/v1/crawls/{crawl_id}/offload/{status['offload_id']}"
    return status


@router.post("/v1/crawls/{crawl_id}/search", status_code=202)
def create_search_ingest(
    crawl_id: str,
    body: SearchRequest,
    request: Request,
    response: Response,
    caller: CallerDep,
    access: OwnerAccess,
    crawls: Crawls,
    runs: Runs,
    offloads: Offloads,
    settings: AppSettings,
) -> dict[str, Any]:
    """Ingest the crawl's metadata into a Globus Search index, as GMetaList documents."""
    body = body.model_copy(update={"tokens": acting_tokens(request, caller, body.tokens)})
    req = body.as_offload()
    status = start_offload(crawl_id, access, req, crawls, runs, offloads, settings)
    response.headers["Location"] = f"/v1/crawls/{crawl_id}/offload/{status['offload_id']}"
    return status


@router.get("/v1/crawls/{crawl_id}/offload")
def list_offloads(
    crawl_id: str, owner: Reader, crawls: Crawls, offloads: Offloads
) -> dict[str, Any]:
    """The crawl's offloads and search ingests, newest first."""
    crawls.get(crawl_id, owner)
    return {"crawl_id": crawl_id, "offloads": offloads.list(crawl_id)}


@router.get("/v1/crawls/{crawl_id}/offload/{offload_id}")
def get_offload(
    crawl_id: str, offload_id: str, owner: Reader, crawls: Crawls, offloads: Offloads
) -> dict[str, Any]:
    crawls.get(crawl_id, owner)
    return offloads.of_crawl(crawl_id, offload_id)


@router.post("/v1/crawls/{crawl_id}/webhooks")
def add_crawl_webhooks(
    crawl_id: str,
    body: WebhookRequest,
    owner: Owner,
    crawls: Crawls,
    r: Redis,
    settings: AppSettings,
) -> dict[str, Any]:
    """URLs to POST ``crawl``, ``xtract`` and ``offload`` STARTED, COMPLETED and FAILED
    events to. The answer holds each new URL's signing secret, shown only here."""
    crawls.get(crawl_id, owner)
    fresh = add_webhooks(r, settings.vault(), crawl_id, body.urls, settings.webhook_allow)
    return {**webhook_report(r, crawl_id), "secrets": fresh}


@router.get("/v1/crawls/{crawl_id}/webhooks")
def webhooks(crawl_id: str, owner: Owner, crawls: Crawls, r: Redis) -> dict[str, Any]:
    crawls.get(crawl_id, owner)
    return webhook_report(r, crawl_id)


@router.get("/v1/formats")
def formats(owner: Owner) -> dict[str, Any]:
    """The offload formats and destinations (drivers, plug-ins' too), with their typed
    parameters."""
    return {
        "formats": describe_formats(),
        "destinations": describe_destinations(),
        "plugin_errors": PLUGIN_ERRORS,
    }
