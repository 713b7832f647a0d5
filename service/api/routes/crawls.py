"""``/v1/crawls``: start, list, watch, flush and cancel crawls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StrictInt

from xtract_service.api.deps import AppSettings, Owner, Store
from xtract_service.api.errors import ApiError
from xtract_service.crawl import keys
from xtract_service.crawl.flush import flush
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.store import CrawlStore
from xtract_service.notify import emit
from xtract_service.settings import Settings

router = APIRouter(prefix="/v1/crawls", tags=["crawls"])


class CrawlRequest(CrawlSpec):
    """One endpoint spec, plus the Globus tokens a ``globus`` crawl lists with."""

    tokens: dict[str, str] = Field(default_factory=dict, description="e.g. {'Transfer': '...'}")
    webhooks: list[str] = Field(
        default_factory=list, max_length=20, description="URLs told of STARTED/COMPLETED/FAILED"
    )


class CrawlStarted(BaseModel):
    crawl_id: str
    status: str


class FlushRequest(BaseModel):
    first_n_files: StrictInt = 100


def start_crawl(
    spec: CrawlSpec, tokens: dict[str, str], owner: str, store: CrawlStore, settings: Settings
) -> str:
    """Check a spec against this service and start it; shared with the legacy routes."""
    secrets = {}
    if spec.repo_type == "local":
        spec.check_local(settings.allowed_roots)
    else:
        transfer = tokens.get("Transfer") or tokens.get("transfer")
        if transfer:
            secrets["transfer_token"] = transfer
    return store.create(spec, owner, secrets)


def checked_flush(
    store: CrawlStore, settings: Settings, crawl_id: str, owner: str, n: Any
) -> dict[str, Any]:
    store.get(crawl_id, owner)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= settings.max_flush:
        raise ApiError(
            400,
            "bad_first_n_files",
            f"first_n_files must be an integer from 1 to {settings.max_flush}, not {n!r}",
        )
    return flush(store.r, crawl_id, n)


@router.post("", status_code=202, response_model=CrawlStarted)
def create_crawl(
    body: CrawlRequest,
    response: Response,
    owner: str = Owner,
    store: CrawlStore = Store,
    settings: Settings = AppSettings,
) -> CrawlStarted:
    """Start crawling one endpoint breadth-first. Poll ``Location`` for its status."""
    spec = CrawlSpec.model_validate(body.model_dump(exclude={"tokens", "webhooks"}))
    for url in body.webhooks:
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "bad_url", f"webhook {url!r} must be an http(s) URL")
    crawl_id = start_crawl(spec, body.tokens, owner, store, settings)
    if body.webhooks:
        store.r.sadd(keys.webhooks(crawl_id), *body.webhooks)
    emit(store.r, crawl_id, "crawl", "STARTED", dirs=spec.dirs, repo_type=spec.repo_type)
    response.headers["Location"] = f"/v1/crawls/{crawl_id}"
    return CrawlStarted(crawl_id=crawl_id, status="initializing")


@router.get("")
def list_crawls(owner: str = Owner, store: CrawlStore = Store) -> dict[str, Any]:
    """The caller's crawls, newest first."""
    return {"crawls": store.list(owner)}


@router.get("/{crawl_id}")
def get_crawl(crawl_id: str, owner: str = Owner, store: CrawlStore = Store) -> dict[str, Any]:
    """``{crawl_id, status, message, data: {files_crawled, bytes_crawled, ...}}``."""
    return store.status(crawl_id, owner)


@router.post("/{crawl_id}/flush")
def flush_crawl(
    crawl_id: str,
    body: FlushRequest,
    owner: str = Owner,
    store: CrawlStore = Store,
    settings: Settings = AppSettings,
) -> dict[str, Any]:
    """Up to ``first_n_files`` files not flushed before: ``{crawl_id, file_ls, num_files,
    queue_empty}``. Extraction still sees every file."""
    return checked_flush(store, settings, crawl_id, owner, body.first_n_files)


@router.delete("/{crawl_id}", status_code=202)
def cancel_crawl(crawl_id: str, owner: str = Owner, store: CrawlStore = Store) -> dict[str, Any]:
    """Stop a crawl; what it found so far stays flushable."""
    return store.cancel(crawl_id, owner)
