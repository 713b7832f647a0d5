"""The routes of the published Xtract services, so the published SDKs (0.0.6, 0.0.7)
work unmodified: ``POST /crawl``, ``GET|POST /get_crawl_status``, ``GET|POST
/fetch_crawl_mdata``, ``POST /extract``, ``GET|POST /get_extract_status``, ``POST
/config_containers``.

Those clients send JSON bodies (even with GET) and carry credentials in the body
(``Authorization``, ``tokens.Authorization``, ``tokens.Transfer``/``FuncX``,
``headers.Authorization``, 0.0.6's top-level ``Transfer``), with or without
``Bearer``; every place is tried. On status, fetch and extract-status calls they send
none: then the crawl id (random, 122 bits) is the capability, unless
``XTRACT_LEGACY_CRAWL_ID_CAPABILITY=false``. With Globus Auth, their Transfer or
Compute token is accepted here (``XTRACT_LEGACY_SERVICE_TOKENS``) and used for the
service it was issued for. Since they send no Transfer token with ``/extract``, a Globus
crawl started here keeps its Transfer token sealed (``crawl:{id}:handover``, at most
``XTRACT_LEGACY_TOKEN_HANDOVER_HOURS``) for its extraction to stage files with, which
takes it once.

Answers have the published shapes: ``get_crawl_status`` answers ``{crawl_id,
crawl_status, ...counters}``, ``get_extract_status`` ``{crawl_id, status, counters}``,
``config_containers`` ``{status}``; errors answer ``{crawl_id, error, code}`` with a
4xx status, since those clients' error branch reads ``crawl_id`` and ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from xtract_service.api.deps import (
    AppSettings,
    Crawls,
    Redis,
    Runs,
    access_of,
    acting_tokens,
    caller_from_token,
)
from xtract_service.api.errors import ApiError, describe_validation, refusal_status
from xtract_service.api.flushing import leased_flush
from xtract_service.api.responses import FastJSON
from xtract_service.auth import AuthRefused, Caller, strip_bearer
from xtract_service.bounds import Tokens
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.start import start_crawl
from xtract_service.errors import ServiceError
from xtract_service.extraction.containers import ContainerRequest, register_containers
from xtract_service.extraction.staging import staging_scopes
from xtract_service.extraction.start import XtractRequest, start_extraction
from xtract_service.globus import tokens as names

MAX_ENDPOINTS = 20


class LegacyRoute(APIRoute):
    """Refusals in the published shape ``{crawl_id, error, code}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except (ApiError, ServiceError) as exc:
                status = refusal_status(exc)
                cid = _body_crawl_id(await request.body())
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                return JSONResponse(
                    {"crawl_id": cid, "error": exc.message, "code": exc.code},
                    status_code=status,
                    headers=headers,
                )

        return handle


router = APIRouter(tags=["legacy"], route_class=LegacyRoute)


def _body_crawl_id(raw: bytes) -> str | None:
    try:
        cid = json.loads(raw).get("crawl_id") if raw else None
    except (ValueError, AttributeError):
        return None
    return cid if isinstance(cid, str) else None


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "bad_json", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the request body must be a JSON object")
    return body


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _headers(body: dict[str, Any]) -> dict[str, Any]:
    """The ``headers`` object of a published body (0.0.6 sends it as a JSON string)."""
    raw = body.get("headers")
    if isinstance(raw, str) and len(raw) <= 16384:
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return _obj(raw)


def _credentials(request: Request, body: dict[str, Any]) -> list[str]:
    """Every token the published clients may have sent, in the order to try them."""
    tokens, headers = _obj(body.get("tokens")), _headers(body)
    found = [
        request.headers.get("authorization"),
        _str(body.get("Authorization")),
        _str(tokens.get("Authorization")),
        _str(headers.get("Authorization")),
        _str(tokens.get(names.TRANSFER)),
        _str(tokens.get(names.FUNCX)),
        _str(headers.get(names.TRANSFER)),
        _str(headers.get(names.FUNCX)),
        _str(body.get(names.TRANSFER)),
    ]
    out: list[str] = []
    for raw in found:
        token = strip_bearer(raw)
        if token and token not in out:
            out.append(token)
    return out


def _caller(request: Request, body: dict[str, Any], found: list[str] | None = None) -> Caller:
    """The first credential that authenticates (of ``found``, else of the body's), or
    the refusal of the first one."""
    settings = request.app.state.settings
    accept = (
        frozenset({names.TRANSFER_SERVER, names.COMPUTE_SERVER})
        if settings.legacy_service_tokens
        else frozenset()
    )
    candidates = _credentials(request, body) if found is None else found
    if not candidates:
        return caller_from_token(request, None)
    refusal: AuthRefused | None = None
    for token in candidates:
        try:
            return caller_from_token(request, token, accept)
        except AuthRefused as exc:
            refusal = refusal or exc
    assert refusal is not None
    raise refusal


def _reader(request: Request, body: dict[str, Any], crawls: Any, cid: str) -> tuple[str, bool]:
    """The owner a status or fetch call reads as, and whether only the crawl id vouches
    for it: its credential's owner, or (none sent) the crawl's own, the crawl id being
    the capability."""
    found = _credentials(request, body)
    if found or not request.app.state.settings.legacy_crawl_id_capability:
        return _caller(request, body, found).owner, False
    return str(crawls.owner_of(cid)), True


def _specs(body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Both published body shapes, as v1 specs plus the Globus tokens."""
    if "endpoints" in body:
        eps = body["endpoints"]
        if not isinstance(eps, list) or not eps:
            raise ApiError(400, "invalid_request", "endpoints: must be a non-empty list")
        if len(eps) > MAX_ENDPOINTS:
            raise ApiError(400, "invalid_request", f"endpoints: at most {MAX_ENDPOINTS}")
        out = []
        for ep in eps:
            if not isinstance(ep, dict):
                raise ApiError(400, "invalid_request", "endpoints: each must be an object")
            out.append(_spec(ep, ep.get("dir_paths")))
        return out, _tokens(body.get("tokens"))
    dirs = body.get("dir_path")
    return [_spec(body, [dirs] if isinstance(dirs, str) else dirs)], _tokens(
        {names.TRANSFER: body.get(names.TRANSFER)}
    )


def _tokens(raw: Any) -> dict[str, str]:
    """The Globus tokens of a legacy body: string values only, checked like /v1's."""
    found = {k: v for k, v in _obj(raw).items() if isinstance(v, str) and v}
    try:
        return TypeAdapter(Tokens).validate_python(found)
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", describe_validation(list(exc.errors()))) from None


def _spec(ep: dict[str, Any], dirs: Any) -> dict[str, Any]:
    repo = ep.get("repo_type", "local")
    spec = {
        "repo_type": repo.lower() if isinstance(repo, str) else repo,
        "dirs": dirs,
        "grouper": ep.get("grouper") or "file_is_group",
    }
    if spec["repo_type"] == "globus":
        spec["globus_ep_id"] = ep.get("eid")
    return spec


def _crawl_id(body: dict[str, Any]) -> str:
    cid = body.get("crawl_id")
    if not isinstance(cid, str):
        raise ApiError(400, "invalid_request", "crawl_id: a crawl id string is required")
    return cid


@router.post("/crawl", status_code=200)
async def crawl(request: Request, crawls: Crawls, settings: AppSettings) -> dict[str, Any]:
    """Start one crawl per endpoint; answers ``{crawl_id, crawl_ids, status}``."""
    body = await _body(request)
    caller = await run_in_threadpool(_caller, request, body)
    raw_specs, tokens = _specs(body)
    try:
        specs = [CrawlSpec.model_validate(s) for s in raw_specs]
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", describe_validation(list(exc.errors()))) from None
    if any(s.repo_type == "globus" for s in specs):
        tokens = await run_in_threadpool(acting_tokens, request, caller, tokens)
    access = await run_in_threadpool(access_of, request, caller)
    ids = []
    keep = int(settings.legacy_token_handover_hours * 3600)
    for spec in specs:
        started = await run_in_threadpool(start_crawl, spec, tokens, access, crawls, settings)
        ids.append(started.crawl_id)
        if spec.repo_type == "globus" and tokens.get(names.TRANSFER):
            handed = {names.TRANSFER: tokens[names.TRANSFER]}
            await run_in_threadpool(crawls.keep_for_extraction, started.crawl_id, handed, keep)
    return {"crawl_id": ids[0], "crawl_ids": ids, "status": 200}


# the published SDKs use both methods: one route (and one operation id) each
@router.get("/get_crawl_status", operation_id="get_crawl_status_get")
@router.post("/get_crawl_status", operation_id="get_crawl_status_post")
async def get_crawl_status(request: Request, crawls: Crawls) -> dict[str, Any]:
    """``{crawl_id, crawl_status, files_crawled, bytes_crawled, ...}``."""
    body = await _body(request)
    cid = _crawl_id(body)
    owner, capability = await run_in_threadpool(_reader, request, body, crawls, cid)
    status = await run_in_threadpool(lambda: crawls.status(cid, owner, by_owner=not capability))
    return {"crawl_id": cid, "crawl_status": status["status"], **status["data"]}


# the published SDKs use both methods: one route (and one operation id) each
@router.get("/fetch_crawl_mdata", operation_id="fetch_crawl_mdata_get", response_class=FastJSON)
@router.post("/fetch_crawl_mdata", operation_id="fetch_crawl_mdata_post", response_class=FastJSON)
async def fetch_crawl_mdata(request: Request, crawls: Crawls, settings: AppSettings) -> FastJSON:
    """``{crawl_id, file_ls, num_files, queue_empty}``: leased, at least once
    (:mod:`xtract_service.crawl.flush`)."""
    body = await _body(request)
    cid = _crawl_id(body)
    owner, capability = await run_in_threadpool(_reader, request, body, crawls, cid)
    asked = {**body, "first_n_files": body.get("n", body.get("first_n_files", 100))}
    flushed = await leased_flush(
        request, crawls, settings, cid, owner, asked, capability=capability
    )
    del flushed["lease"]  # the published answer's shape, exactly
    return FastJSON(flushed)


def _funcx_endpoint(body: dict[str, Any]) -> str | None:
    """The Compute endpoint a published body names: ``fx_ep_ids`` (0.0.7, a list that
    may hold ``null``), or ``funcx_eid``/``fx_eid`` (0.0.6)."""
    ids = body.get("fx_ep_ids")
    if isinstance(ids, list):
        named = [i for i in ids if isinstance(i, str) and i]
        if len(named) > 1:
            raise ApiError(400, "invalid_request", "fx_ep_ids: one Compute endpoint per crawl")
        return named[0] if named else None
    return _str(body.get("funcx_eid")) or _str(body.get("fx_eid")) or None


@router.post("/extract", status_code=200)
async def extract(
    request: Request, crawls: Crawls, runs: Runs, settings: AppSettings
) -> dict[str, Any]:
    """Start extracting a crawl: ``{crawl_id, fx_ep_ids, tokens, local_mdata_path,
    remote_mdata_path}`` (0.0.7) or ``{crawl_id, funcx_eid, ...}`` (0.0.6). With a
    Compute endpoint the run is ``globus-compute``; without one, ``local`` (a Globus
    crawl's files are then staged here first)."""
    body = await _body(request)
    caller = await run_in_threadpool(_caller, request, body)
    cid = _crawl_id(body)
    endpoint = _funcx_endpoint(body)
    passed = {**_headers(body), **_obj(body.get("tokens"))}
    given = _tokens({k: v for k, v in passed.items() if k != "Authorization"})
    extra = await run_in_threadpool(staging_scopes, crawls, cid, caller.owner, endpoint)
    if extra:  # files to stage: the Transfer token the crawl was started with, if kept
        kept = await run_in_threadpool(crawls.take_for_extraction, cid, caller.owner)
        given = {**kept, **given}
    tokens = await run_in_threadpool(acting_tokens, request, caller, given, extra)
    executor = body.get("executor") or ("globus-compute" if endpoint else "local")
    try:
        req = XtractRequest.model_validate(
            {
                "executor": executor,
                "local_mdata_path": body.get("local_mdata_path") or None,
                "funcx_ep_id": endpoint,
                "tokens": tokens,
            }
        )
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", describe_validation(list(exc.errors()))) from None
    access = await run_in_threadpool(access_of, request, caller)
    status = await run_in_threadpool(start_extraction, cid, access, req, crawls, runs, settings)
    return {"crawl_id": cid, "status": 200, "xtract_status": status["xtract_status"]}


# the published SDKs use both methods: one route (and one operation id) each
@router.get("/get_extract_status", operation_id="get_extract_status_get")
@router.post("/get_extract_status", operation_id="get_extract_status_post")
async def get_extract_status(request: Request, crawls: Crawls, runs: Runs) -> dict[str, Any]:
    """``{crawl_id, status, counters}`` (the published shape), and the rest of ours."""
    body = await _body(request)
    cid = _crawl_id(body)
    owner, _ = await run_in_threadpool(_reader, request, body, crawls, cid)
    status = await run_in_threadpool(runs.status, cid, owner)
    return {
        **status,
        "crawl_id": cid,
        "status": status["xtract_status"],
        "counters": status["xtract_counters"],
    }


@router.post("/config_containers")
async def config_containers(request: Request, r: Redis) -> dict[str, Any]:
    """``{fx_eid, headers, container_path}``: the images on a funcX endpoint; answers
    ``{status: 200, endpoint_id, containers}``."""
    body = await _body(request)
    caller = await run_in_threadpool(_caller, request, body)
    endpoint = body.get("fx_eid") or body.get("funcx_eid") or body.get("endpoint_id")
    if not isinstance(endpoint, str):
        raise ApiError(400, "invalid_request", "fx_eid: a funcX endpoint id is required")
    try:
        req = ContainerRequest.model_validate(
            {
                "container_path": body.get("container_path"),
                "containers": body.get("containers") or {},
            }
        )
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", describe_validation(list(exc.errors()))) from None
    done = await run_in_threadpool(register_containers, r, endpoint, caller.owner, req)
    return {"status": 200, **done}
