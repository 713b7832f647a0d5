"""Extraction: ``/v1/crawls/{id}/xtract`` (start, status, retry, clear),
``/v1/crawls/{id}/metadata`` (paged, read-only), and ``/v1/extractors``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from xtract_extractors import PLUGIN_ERRORS, all_extractors
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
from xtract_service.api.responses import FastJSON
from xtract_service.bounds import Name
from xtract_service.errors import BadRequest
from xtract_service.extraction.browse import Query as MetadataQuery
from xtract_service.extraction.browse import find
from xtract_service.extraction.index import rebuild
from xtract_service.extraction.staging import staging_scopes
from xtract_service.extraction.start import XtractRequest, check_extractor, start_extraction
from xtract_service.quotas import search_slot

router = APIRouter(tags=["extraction"])


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    errors: bool = Field(False, description="also families where an extractor failed")


class ClearRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extractor: Name | None = Field(None, description="forget only this extractor's results")


@router.post("/v1/crawls/{crawl_id}/xtract", status_code=202)
def create_extraction(
    crawl_id: str,
    body: XtractRequest,
    request: Request,
    response: Response,
    caller: CallerDep,
    access: OwnerAccess,
    crawls: Crawls,
    runs: Runs,
    settings: AppSettings,
) -> dict[str, Any]:
    """Extract the crawl's families, as they are found. Poll ``Location`` for status."""
    extra = staging_scopes(crawls, crawl_id, caller.owner, body.funcx_ep_id)
    tokens = acting_tokens(request, caller, body.tokens, extra)
    body = body.model_copy(update={"tokens": tokens})
    status = start_extraction(crawl_id, access, body, crawls, runs, settings)
    response.headers["Location"] = f"/v1/crawls/{crawl_id}/xtract"
    return status


@router.get("/v1/crawls/{crawl_id}/xtract")
def extraction_status(crawl_id: str, owner: Reader, runs: Runs) -> dict[str, Any]:
    """``{xtract_status, xtract_counters: {cumu_orch_enter, ..., fx: {...}}, ...}``."""
    return runs.status(crawl_id, owner)


@router.get("/v1/crawls/{crawl_id}/metadata", response_class=FastJSON)
def metadata(
    crawl_id: str,
    owner: Reader,
    crawls: Crawls,
    runs: Runs,
    after: str | None = Query(None, description="the 'next' of the previous page"),
    limit: int = Query(100, ge=1, le=1000),
) -> FastJSON:
    """Extracted metadata documents, one per family, a page at a time (read-only)."""
    crawls.get(crawl_id, owner)
    return FastJSON(runs.results.page(crawl_id, after, limit))


@router.get("/v1/crawls/{crawl_id}/metadata/search", response_class=FastJSON)
def search_metadata(
    crawl_id: str,
    owner: Reader,
    crawls: Crawls,
    runs: Runs,
    settings: AppSettings,
    path: str = Query("", max_length=1000, description="part of the file's path"),
    type: str = Query("", max_length=200, description="part of its detected mimetype"),
    extractor: str = Query("", max_length=100, description="an extractor that read it"),
    field: str = Query("", max_length=200, description="a field it has: name or name=value"),
    error: str = Query("", max_length=100, description="a kind of error record it has"),
    after: str | None = Query(None, max_length=100, description="the 'next' of the last page"),
    limit: int = Query(50, ge=1, le=500),
) -> FastJSON:
    """Files whose metadata matches every filter given (case-insensitive parts), with
    their metadata, in the order the documents were recorded, from the crawl's
    metadata index: ``{files, matched, searched, complete, next}``, exact counts
    (``matched`` of ``searched`` files; ``complete``: every recorded document is
    indexed). Before anything is indexed, a bounded scan of the documents: ``{files,
    scanned, next}``. Pass ``next`` as ``after`` to go on; there is a ``next`` only
    when another page holds files."""
    crawls.get(crawl_id, owner)
    query = MetadataQuery(path, type, extractor, field, error)
    try:
        with search_slot(runs.r, owner, settings):
            found = find(runs.results, settings, crawl_id, query, after, limit)
    except ValueError:
        raise BadRequest(
            f"bad cursor {after!r}; pass the 'next' of the previous page", "bad_cursor"
        ) from None
    return FastJSON({"crawl_id": crawl_id, **found})


@router.get("/v1/extractors")
def extractors(owner: Owner) -> dict[str, Any]:
    """Every extractor this service can run, with its typed parameters."""
    return {"extractors": [e.describe() for e in all_extractors()], "plugin_errors": PLUGIN_ERRORS}


@router.post("/v1/crawls/{crawl_id}/xtract/retry", status_code=202)
def retry_extraction(crawl_id: str, body: RetryRequest, owner: Owner, runs: Runs) -> dict[str, Any]:
    """Extract again only the families that failed; the rest keep their results."""
    return runs.retry(crawl_id, owner, errors=body.errors)


@router.post("/v1/crawls/{crawl_id}/xtract/clear")
def clear_extraction(
    crawl_id: str, body: ClearRequest, owner: Owner, runs: Runs, settings: AppSettings
) -> dict[str, Any]:
    """Forget extraction results: all (a new xtract can start, and the metadata index
    is emptied with them), or one extractor's (a retry then runs those families
    again)."""
    if body.extractor is not None:
        check_extractor(body.extractor)
    cleared = runs.clear(crawl_id, owner, body.extractor)
    if body.extractor is None:
        rebuild(runs.r, settings, crawl_id, owner)  # from the (now empty) documents
    return cleared
