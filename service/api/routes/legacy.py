"""The routes of the published Xtract services, so earlier scripts and SDK releases
keep working: ``POST /crawl``, ``GET|POST /get_crawl_status``, ``GET|POST
/fetch_crawl_mdata``. Those clients send JSON bodies (even with GET) and carry the token
in the body (``Authorization`` or ``tokens.Authorization``), with or without ``Bearer``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from xtract_service.api.deps import AppSettings, Crawls, Redis, Runs, access_of, owner_from_token
from xtract_service.api.errors import ApiError, describe_validation
from xtract_service.auth import strip_bearer
from xtract_service.bounds import Tokens
from xtract_service.crawl.flush import flush_files
from xtract_service.crawl.spec import CrawlSpec
from xtract_service.crawl.start import start_crawl
from xtract_service.extraction.containers import ContainerRequest, register_containers
from xtract_service.extraction.start import XtractRequest, start_extraction

router = APIRouter(tags=["legacy"])
MAX_ENDPOINTS = 20


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


def _owner(request: Request, body: dict[str, Any]) -> str:
    tokens = body.get("tokens") if isinstance(body.get("tokens"), dict) else {}
    token = (
        strip_bearer(request.headers.get("authorization"))
        or strip_bearer(_str(body.get("Authorization")))
        or strip_bearer(_str(tokens.get("Authorization")))  # type: ignore[union-attr]
    )
    return owner_from_token(request, token)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _specs(body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Both published body shapes, as v1 specs plus the Globus tokens."""
    if "endpoints" in body:
        eps = body["endpoints"]
        if not isinstance(eps, list) or not eps:
            raise ApiError(422, "invalid_request", "endpoints: must be a non-empty list")
        if len(eps) > MAX_ENDPOINTS:
            raise ApiError(422, "invalid_request", f"endpoints: at most {MAX_ENDPOINTS}")
        out = []
        for ep in eps:
            if not isinstance(ep, dict):
                raise ApiError(422, "invalid_request", "endpoints: each must be an object")
            out.append(_spec(ep, ep.get("dir_paths")))
        return out, _tokens(body.get("tokens"))
    dirs = body.get("dir_path")
    return [_spec(body, [dirs] if isinstance(dirs, str) else dirs)], {
        "Transfer": _str(body.get("Transfer")) or ""
    }


def _tokens(raw: Any) -> dict[str, str]:
    """The Globus tokens of a legacy body: string values only, checked like /v1's."""
    found = {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}
    try:
        return TypeAdapter(Tokens).validate_python(found)
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", describe_validation(list(exc.errors()))) from None


def _spec(ep: dict[str, Any], dirs: Any) -> dict[str, Any]:
    spec = {
        "repo_type": ep.get("repo_type", "local"),
        "dirs": dirs,
        "grouper": ep.get("grouper") or "file_is_group",
    }
    if str(spec["repo_type"]).lower() == "globus":
        spec["globus_ep_id"] = ep.get("eid")
    return spec


@router.post("/crawl", status_code=200)
async def crawl(request: Request, crawls: Crawls, settings: AppSettings) -> dict[str, Any]:
    """Start one crawl per endpoint; answers ``{crawl_id, crawl_ids, status}``."""
    body = await _body(request)
    owner = await run_in_threadpool(_owner, request, body)
    raw_specs, tokens = _specs(body)
    try:
        specs = [CrawlSpec.model_validate(s) for s in raw_specs]
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", describe_validation(list(exc.errors()))) from None
    access = await run_in_threadpool(access_of, request, owner)
    ids = [
        (await run_in_threadpool(start_crawl, s, tokens, access, crawls, settings)).crawl_id
        for s in specs
    ]
    return {"crawl_id": ids[0], "crawl_ids": ids, "status": 200}


def _crawl_id(body: dict[str, Any]) -> str:
    cid = body.get("crawl_id")
    if not isinstance(cid, str):
        raise ApiError(422, "invalid_request", "crawl_id: a crawl id string is required")
    return cid


@router.api_route("/get_crawl_status", methods=["GET", "POST"])
async def get_crawl_status(request: Request, crawls: Crawls) -> dict[str, Any]:
    body = await _body(request)
    owner = await run_in_threadpool(_owner, request, body)
    return await run_in_threadpool(crawls.status, _crawl_id(body), owner)


@router.api_route("/fetch_crawl_mdata", methods=["GET", "POST"])
async def fetch_crawl_mdata(
    request: Request, crawls: Crawls, settings: AppSettings
) -> dict[str, Any]:
    body = await _body(request)
    owner = await run_in_threadpool(_owner, request, body)
    n = body.get("n", body.get("first_n_files", 100))
    cid = _crawl_id(body)
    return await run_in_threadpool(flush_files, crawls, cid, owner, n, settings.max_flush)


@router.post("/extract", status_code=200)
async def extract(
    request: Request, crawls: Crawls, runs: Runs, settings: AppSettings
) -> dict[str, Any]:
    """Start extracting a crawl: ``{crawl_id, tokens, local_mdata_path[, executor]}``."""
    body = await _body(request)
    owner = await run_in_threadpool(_owner, request, body)
    cid = _crawl_id(body)
    tokens = body.get("tokens") if isinstance(body.get("tokens"), dict) else {}
    try:
        req = XtractRequest.model_validate(
            {
                "executor": body.get("executor", "local"),
                "local_mdata_path": body.get("local_mdata_path") or None,
                "funcx_ep_id": body.get("funcx_eid") or body.get("fx_eid") or None,
                "tokens": {k: v for k, v in tokens.items() if isinstance(v, str)},  # type: ignore[union-attr]
            }
        )
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", describe_validation(list(exc.errors()))) from None
    access = await run_in_threadpool(access_of, request, owner)
    status = await run_in_threadpool(start_extraction, cid, access, req, crawls, runs, settings)
    return {"crawl_id": cid, "status": 200, "xtract_status": status["xtract_status"]}


@router.api_route("/get_extract_status", methods=["GET", "POST"])
async def get_extract_status(request: Request, runs: Runs) -> dict[str, Any]:
    body = await _body(request)
    owner = await run_in_threadpool(_owner, request, body)
    return await run_in_threadpool(runs.status, _crawl_id(body), owner)


@router.post("/config_containers")
async def config_containers(request: Request, r: Redis) -> dict[str, Any]:
    """``{fx_eid, container_path}``: the images on a funcX endpoint."""
    body = await _body(request)
    owner = await run_in_threadpool(_owner, request, body)
    endpoint = body.get("fx_eid") or body.get("funcx_eid") or body.get("endpoint_id")
    if not isinstance(endpoint, str):
        raise ApiError(422, "invalid_request", "fx_eid: a funcX endpoint id is required")
    try:
        req = ContainerRequest.model_validate(
            {
                "container_path": body.get("container_path"),
                "containers": body.get("containers") or {},
            }
        )
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", describe_validation(list(exc.errors()))) from None
    return await run_in_threadpool(register_containers, r, endpoint, owner, req)
