"""When a run stages its files, and how.

The seed says files on an endpoint with no funcX (Compute) endpoint "must be
transferred to an endpoint with a valid funcX endpoint". Here, a Globus crawl extracted
without ``funcx_ep_id`` runs on the local (or Parsl) executor, and each batch's files
are first staged where that executor runs: over the collection's HTTPS server when it
has one and the caller gave an HTTPS token, else by a Globus transfer into this host's
collection (:mod:`xtract_service.globus.staging`). Files over
``XTRACT_STAGE_MAX_FILE_BYTES`` are not fetched at all.
"""

from __future__ import annotations

import os
from typing import Any

import globus_sdk

from xtract_service.crawl.store import CrawlStore
from xtract_service.errors import BadRequest
from xtract_service.extraction.executors.base import BatchExecutor
from xtract_service.extraction.executors.staged import StagedExecutor
from xtract_service.globus import clients, tokens
from xtract_service.globus.ratelimit import RateLimiter
from xtract_service.globus.staging import HttpsStager, Stager, TransferStager
from xtract_service.settings import Settings


def staging_scopes(
    crawls: CrawlStore, crawl_id: str, owner: str, funcx_ep_id: str | None
) -> dict[str, str]:
    """The extra tokens (by name, their scopes) a run needs to stage the crawl's files:
    an HTTPS token for a Globus crawl extracted without a Compute endpoint."""
    spec = crawls.get(crawl_id, owner).spec
    if spec.get("repo_type") != "globus" or funcx_ep_id or spec.get("funcx_ep_id"):
        return {}
    return {tokens.HTTPS: tokens.https_scope(str(spec["globus_ep_id"]))}


def plan_staging(
    spec: dict[str, Any], given: dict[str, str], settings: Settings, limiter: RateLimiter
) -> tuple[dict[str, Any], dict[str, str]]:
    """How a Globus crawl's files will be staged, and the tokens that takes; a
    BadRequest that says what is missing when they cannot be."""
    endpoint = str(spec.get("globus_ep_id"))
    transfer = tokens.pick(given, tokens.TRANSFER)
    https = tokens.pick(given, tokens.HTTPS)
    if https and transfer:
        try:
            doc = clients.transfer(transfer, settings, limiter).get_endpoint(endpoint)
        except globus_sdk.GlobusAPIError as exc:
            raise BadRequest(
                f"cannot read endpoint {endpoint} to stage its files: {exc.http_status} {exc.code}",
                "staging",
            ) from None
        except globus_sdk.NetworkError:
            raise BadRequest(
                "Globus Transfer cannot be reached to stage files", "staging"
            ) from None
        server = doc.get("https_server")
        if server:
            plan = {"method": "https", "endpoint_id": endpoint, "https_server": str(server)}
            return plan, {tokens.KEPT[tokens.HTTPS]: https}
    if transfer and settings.globus_collection_id and settings.globus_collection_root:
        plan = {"method": "transfer", "endpoint_id": endpoint}
        return plan, {tokens.KEPT[tokens.TRANSFER]: transfer}
    raise BadRequest(
        f"a Globus crawl with no Compute endpoint is extracted by staging its files here, "
        f"which needs either an HTTPS token for collection {endpoint} "
        f"(tokens={{'HTTPS': ...}}, scope {tokens.https_scope(endpoint)}) and a Transfer token, or "
        "a Transfer token and this host's collection (XTRACT_GLOBUS_COLLECTION_ID and "
        "XTRACT_GLOBUS_COLLECTION_ROOT); or give funcx_ep_id",
        "staging",
    )


def staged_executor(
    inner: BatchExecutor,
    owns_inner: bool,
    crawl_id: str,
    plan: dict[str, Any],
    secrets: dict[str, str],
    settings: Settings,
    limiter: RateLimiter,
) -> StagedExecutor:
    """The run's executor, staging by ``plan`` (from :func:`plan_staging`)."""
    stager: Stager
    if plan["method"] == "https":
        top = os.path.join(os.path.realpath(settings.home), "staging", crawl_id)
        token = tokens.kept(secrets, tokens.HTTPS) or ""
        stager = HttpsStager(plan["https_server"], token, top, settings.stage_max_file_bytes)
    else:
        stager = TransferStager(
            clients.transfer(tokens.kept(secrets, tokens.TRANSFER), settings, limiter),
            plan["endpoint_id"],
            str(settings.globus_collection_id),
            str(settings.globus_collection_root),
            crawl_id,
            settings.transfer_poll_seconds,
            settings.stage_timeout,
        )
    return StagedExecutor(inner, stager, owns_inner)
