"""Extraction: ``/v1/crawls/{id}/xtract`` (start, status), ``/v1/crawls/{id}/metadata``
(paged, read-only), and ``/v1/extractors``."""

from __future__ import annotations

import importlib.util
import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from xtract_extractors import ParamError, UnknownExtractor, all_extractors, get
from xtract_service.api.deps import AppSettings, Owner, Store
from xtract_service.api.errors import ApiError
from xtract_service.crawl.store import CrawlStore
from xtract_service.extraction.executors import EXECUTORS
from xtract_service.extraction.store import ExtractionExists, ExtractionStore
from xtract_service.paths import output_folder
from xtract_service.settings import Settings

router = APIRouter(tags=["extraction"])


class XtractRequest(BaseModel):
    """How to extract a crawl's families."""

    model_config = ConfigDict(extra="forbid")

    executor: str = Field("local", description="local, parsl or globus-compute")
    extractors: list[str] | None = Field(None, description="run only these extractors")
    add: list[str] = Field(default_factory=list, description="also run these extractors")
    params: dict[str, dict[str, Any]] = Field(default_factory=dict, description="per extractor")
    local_mdata_path: str | None = Field(None, description="folder for one JSON per family")
    funcx_ep_id: str | None = Field(None, description="Globus Compute endpoint (globus-compute)")
    batch_files: int | None = Field(None, ge=1, le=10_000)
    time_limit: float | None = Field(None, gt=0, le=24 * 3600)
    memory_limit: int | None = Field(None, ge=64 << 20)
    tokens: dict[str, str] = Field(default_factory=dict, description="e.g. {'Compute': '...'}")


def get_extractions(request: Request) -> ExtractionStore:
    store: ExtractionStore = request.app.state.extractions
    return store


def _check_extractors(body: XtractRequest) -> None:
    try:
        for name in [*(body.extractors or []), *body.add, *body.params]:
            get(name)
        for name, params in body.params.items():
            get(name).validate(params)
    except (UnknownExtractor, ParamError) as exc:
        raise ApiError(400, "bad_extractor", str(exc).strip("'\"")) from None


def _output_folder(body: XtractRequest, spec: dict[str, Any], crawl_id: str, s: Settings) -> str:
    wanted = body.local_mdata_path or spec.get("local_mdata_path")
    if not wanted:
        return str(s.home / "metadata" / crawl_id)
    try:
        return output_folder(wanted, "local_mdata_path", s)
    except ValueError as exc:
        raise ApiError(400, "bad_path", str(exc)) from None


def start_extraction(
    crawl_id: str,
    owner: str,
    body: XtractRequest,
    crawls: CrawlStore,
    extractions: ExtractionStore,
    s: Settings,
) -> dict[str, Any]:
    """Validate everything, then start; shared with the legacy ``/extract`` route."""
    import json

    crawl = crawls.get(crawl_id, owner)
    spec = json.loads(crawl["spec"])
    if body.executor not in EXECUTORS:
        raise ApiError(
            422,
            "bad_executor",
            f"unknown executor {body.executor!r}; use one of {', '.join(EXECUTORS)}",
        )
    _check_extractors(body)
    secrets: dict[str, str] = {}
    endpoint = body.funcx_ep_id or spec.get("funcx_ep_id")
    if body.executor == "globus-compute":
        if not endpoint:
            raise ApiError(
                400,
                "no_endpoint",
                "the globus-compute executor needs funcx_ep_id (on the endpoint or here)",
            )
        try:
            endpoint = str(uuid.UUID(endpoint))
        except ValueError:
            raise ApiError(400, "bad_endpoint", f"{endpoint!r} is not an endpoint UUID") from None
        token = next(
            (body.tokens[k] for k in ("Compute", "FuncX", "funcx") if k in body.tokens), None
        )
        if token:
            secrets["compute_token"] = token
    if body.executor == "parsl" and importlib.util.find_spec("parsl") is None:
        raise ApiError(
            400, "missing_extra", "the parsl executor needs: pip install 'xtract[parsl]'"
        )
    options = {
        "executor": body.executor,
        "extractors": body.extractors,
        "add": body.add,
        "params": body.params,
        "local_mdata_path": _output_folder(body, spec, crawl_id, s),
        "funcx_ep_id": endpoint,
        "batch_files": body.batch_files or s.extract_batch_files,
        "time_limit": body.time_limit or s.extract_time_limit,
        "memory_limit": body.memory_limit or s.extract_memory_limit,
    }
    try:
        return extractions.start(crawl_id, owner, options, secrets)
    except ExtractionExists as exc:
        raise ApiError(409, "already_extracting", str(exc)) from None


@router.post("/v1/crawls/{crawl_id}/xtract", status_code=202)
def create_extraction(
    crawl_id: str,
    body: XtractRequest,
    request: Request,
    response: Response,
    owner: str = Owner,
    crawls: CrawlStore = Store,
    settings: Settings = AppSettings,
) -> dict[str, Any]:
    """Extract the crawl's families, as they are found. Poll ``Location`` for status."""
    status = start_extraction(crawl_id, owner, body, crawls, get_extractions(request), settings)
    response.headers["Location"] = f"/v1/crawls/{crawl_id}/xtract"
    return status


@router.get("/v1/crawls/{crawl_id}/xtract")
def extraction_status(crawl_id: str, request: Request, owner: str = Owner) -> dict[str, Any]:
    """``{xtract_status, xtract_counters: {cumu_orch_enter, ..., fx: {...}}, ...}``."""
    return get_extractions(request).status(crawl_id, owner)


@router.get("/v1/crawls/{crawl_id}/metadata")
def metadata(
    crawl_id: str,
    request: Request,
    owner: str = Owner,
    after: str | None = Query(None, description="the 'next' of the previous page"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    """Extracted metadata documents, one per family, a page at a time (read-only)."""
    try:
        return get_extractions(request).page(crawl_id, owner, after, limit)
    except ValueError as exc:
        raise ApiError(400, "bad_cursor", str(exc)) from None


@router.get("/v1/extractors")
def extractors(owner: str = Owner) -> dict[str, Any]:
    """Every extractor this service can run, with its typed parameters."""
    from xtract_extractors import PLUGIN_ERRORS

    return {"extractors": [e.describe() for e in all_extractors()], "plugin_errors": PLUGIN_ERRORS}


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    errors: bool = Field(False, description="also families where an extractor failed")


class ClearRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extractor: str | None = Field(None, description="forget only this extractor's results")


@router.post("/v1/crawls/{crawl_id}/xtract/retry", status_code=202)
def retry_extraction(
    crawl_id: str, body: RetryRequest, request: Request, owner: str = Owner
) -> dict[str, Any]:
    """Extract again only the families that failed; the rest keep their results."""
    try:
        return get_extractions(request).retry(crawl_id, owner, errors=body.errors)
    except ExtractionExists as exc:
        raise ApiError(409, "still_running", str(exc)) from None


@router.post("/v1/crawls/{crawl_id}/xtract/clear")
def clear_extraction(
    crawl_id: str, body: ClearRequest, request: Request, owner: str = Owner
) -> dict[str, Any]:
    """Forget extraction results: all (a new xtract can start), or one extractor's
    (a retry then runs those families again)."""
    if body.extractor is not None:
        try:
            get(body.extractor)
        except UnknownExtractor as exc:
            raise ApiError(400, "bad_extractor", str(exc).strip("'\"")) from None
    try:
        return get_extractions(request).clear(crawl_id, owner, body.extractor)
    except ExtractionExists as exc:
        raise ApiError(409, "still_running", str(exc)) from None
