"""``/v1/crawls``: start, list, watch, flush and cancel crawls."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from xtract_sdk.status import CrawlStatus
from xtract_service.api.deps import (
    AppSettings,
    CallerDep,
    Crawls,
    Owner,
    OwnerAccess,
    Reader,
    Runs,
    acting_tokens,
)
from xtract_service.api.flushing import leased_flush
from xtract_service.api.responses import FastJSON
from xtract_service.api.status_bytes import crawl_status_body
from xtract_service.bounds import Name
from xtract_service.crawl.changes import changes_page
from xtract_service.crawl.start import CrawlRequest, start_crawl
from xtract_service.errors import BadRequest
from xtract_service.retention import forget_crawl
from xtract_service.sharing import MAX_SHARES, share, shares_of, unshare

router = APIRouter(prefix="/v1/crawls", tags=["crawls"])


class CrawlStarted(BaseModel):
    crawl_id: str
    status: str
    webhook_secrets: dict[str, str] = {}  # signing secret per webhook, shown only here


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identities: list[Name] = Field(default_factory=list, max_length=MAX_SHARES)
    groups: list[Name] = Field(default_factory=list, max_length=MAX_SHARES)


class FlushRequest(BaseModel):
    first_n_files: StrictInt = 100
    consumer: str | None = Field(None, max_length=64)  # whose lease (default: "default")
    ack: str | None = Field(None, max_length=16)  # a lease id to end as received


@router.post("", status_code=202, response_model=CrawlStarted)
def create_crawl(
    body: CrawlRequest,
    request: Request,
    response: Response,
    caller: CallerDep,
    access: OwnerAccess,
    crawls: Crawls,
    settings: AppSettings,
) -> CrawlStarted:
    """Start crawling one endpoint breadth-first. Poll ``Location`` for its status."""
    tokens = body.tokens
    if body.repo_type == "globus":
        tokens = acting_tokens(request, caller, tokens)
    started = start_crawl(body.spec(), tokens, access, crawls, settings, body.webhooks)
    response.headers["Location"] = f"/v1/crawls/{started.crawl_id}"
    return CrawlStarted(
        crawl_id=started.crawl_id,
        status=CrawlStatus.INITIALIZING,
        webhook_secrets=started.webhook_secrets,
    )


@router.get("")
def list_crawls(owner: Owner, crawls: Crawls, runs: Runs) -> dict[str, Any]:
    """The caller's crawls, newest first, each with its extraction's state."""
    return {"crawls": runs.annotate(crawls.list(owner))}


@router.get("/{crawl_id}", response_class=FastJSON)
async def get_crawl(crawl_id: str, request: Request) -> Response:
    """``{crawl_id, status, message, data: {files_crawled, bytes_crawled, ...}}``. The
    id of the crawl a ``since`` crawl compared with is shown to its owner only. Served
    from the document this API process keeps (see
    :mod:`xtract_service.api.status_bytes`): as fresh as a poll can tell."""
    return await crawl_status_body(request, crawl_id)


@router.post("/{crawl_id}/flush", response_class=FastJSON)
async def flush_crawl(
    crawl_id: str,
    body: FlushRequest,
    request: Request,
    owner: Owner,
    crawls: Crawls,
    settings: AppSettings,
) -> FastJSON:
    """Up to ``first_n_files`` files not handed out before: ``{crawl_id, file_ls,
    num_files, queue_empty, lease}``. The files stay leased to ``consumer`` until its
    next call or ``ack: lease``; unacknowledged past ``XTRACT_FLUSH_LEASE_SECONDS``
    (or never received) they are handed out again. Extraction still sees every file."""
    flushed = await leased_flush(request, crawls, settings, crawl_id, owner, body.model_dump())
    return FastJSON(flushed)


@router.get("/{crawl_id}/changes")
def crawl_changes(
    crawl_id: str,
    owner: Reader,
    crawls: Crawls,
    kind: Literal["added", "changed", "removed"] = Query("added"),
    after: str = Query("", max_length=64, pattern=r"^([0-9]+-[0-9]+:[0-9]+)?$"),
    limit: int = Query(1000, ge=1, le=10_000),
) -> dict[str, Any]:
    """A crawl started with ``since``: the paths it found added, changed or removed,
    a page at a time (``next`` is the ``after`` of the next page, ``null`` at the end)."""
    if not crawls.get(crawl_id, owner).spec.get("since"):
        raise BadRequest(f"crawl {crawl_id} was not started with since=", "not_incremental")
    return changes_page(crawls.r, crawl_id, kind, after, limit)


@router.delete("/{crawl_id}", status_code=202)
def cancel_crawl(
    crawl_id: str,
    owner: Owner,
    crawls: Crawls,
    settings: AppSettings,
    forget: bool = Query(False, description="also delete the crawl and all its results"),
) -> dict[str, Any]:
    """Stop a crawl; what it found so far stays flushable. With ``forget=true`` the
    (finished) crawl and everything it produced in the service are deleted."""
    if forget:
        crawls.get(crawl_id, owner)
        forget_crawl(crawls.r, crawl_id, settings)
        return {"crawl_id": crawl_id, "forgotten": True}
    return crawls.cancel(crawl_id, owner)


@router.get("/{crawl_id}/shares")
def crawl_shares(crawl_id: str, owner: Owner, crawls: Crawls) -> dict[str, Any]:
    """Who besides the owner may read the crawl: ``{crawl_id, identities, groups}``."""
    crawls.get(crawl_id, owner)
    return {"crawl_id": crawl_id, **shares_of(crawls.r, crawl_id)}


@router.post("/{crawl_id}/shares")
def share_crawl(crawl_id: str, body: ShareRequest, owner: Owner, crawls: Crawls) -> dict[str, Any]:
    """Let Globus identities, or members of Globus groups, read the crawl: its status,
    extraction status, metadata, offloads and events (never change it)."""
    return share(crawls, crawl_id, owner, body.identities, body.groups)


@router.post("/{crawl_id}/shares/remove")
def unshare_crawl(
    crawl_id: str, body: ShareRequest, owner: Owner, crawls: Crawls
) -> dict[str, Any]:
    """Stop sharing the crawl with these identities and groups."""
    return unshare(crawls, crawl_id, owner, body.identities, body.groups)
