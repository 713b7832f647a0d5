"""Starting an extraction: the request, checked against the crawl, the extractors and
the executor before anything is recorded (shared by ``/v1`` and the legacy routes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xtract_extractors import ParamError, UnknownExtractor, get
from xtract_service.access import Access, own_folder
from xtract_service.bounds import MAX_ITEMS, Name, Params, PathText, Tokens
from xtract_service.crawl.store import CrawlStore
from xtract_service.errors import BadRequest
from xtract_service.extraction.executors import executor_class
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.extraction.staging import plan_staging
from xtract_service.globus.ratelimit import owner_bucket
from xtract_service.quotas import check_metadata_quota
from xtract_service.settings import Settings

MAX_MEMORY_LIMIT = 256 << 30  # a larger limit would be no limit at all


class XtractRequest(BaseModel):
    """How to extract a crawl's families."""

    model_config = ConfigDict(extra="forbid")

    executor: Name = Field("local", description="local, parsl or globus-compute")
    extractors: list[Name] | None = Field(
        None, max_length=MAX_ITEMS, description="run only these extractors"
    )
    add: list[Name] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="also run these extractors"
    )
    params: dict[Name, Params] = Field(
        default_factory=dict, max_length=MAX_ITEMS, description="per extractor"
    )
    local_mdata_path: PathText | None = Field(None, description="folder for one JSON per family")
    funcx_ep_id: Name | None = Field(None, description="Globus Compute endpoint (globus-compute)")
    batch_files: int | None = Field(None, ge=1, le=10_000)
    time_limit: float | None = Field(None, gt=0, le=24 * 3600)
    memory_limit: int | None = Field(None, ge=64 << 20, le=MAX_MEMORY_LIMIT)
    tokens: Tokens = Field(default_factory=dict, description="e.g. {'Compute': '...'}")


def check_extractor(name: str) -> None:
    """BadRequest unless an extractor called ``name`` is registered."""
    try:
        get(name)
    except UnknownExtractor as exc:
        raise BadRequest(str(exc).strip("'\""), "bad_extractor") from None


def _check_extractors(req: XtractRequest) -> None:
    for name in [*(req.extractors or []), *req.add, *req.params]:
        check_extractor(name)
    try:
        for name, params in req.params.items():
            get(name).validate(params)
    except ParamError as exc:
        raise BadRequest(str(exc).strip("'\""), "bad_extractor") from None


def _output_folder(
    req: XtractRequest, spec: dict[str, Any], crawl_id: str, access: Access, s: Settings
) -> tuple[str, str]:
    """Where the documents go, and the root beneath which that folder is opened."""
    wanted = req.local_mdata_path or spec.get("local_mdata_path")
    if not wanted:
        return own_folder(s, "metadata", crawl_id)
    return access.check(wanted, "local_mdata_path")


def start_extraction(
    crawl_id: str,
    access: Access,
    req: XtractRequest,
    crawls: CrawlStore,
    runs: ExtractionRuns,
    settings: Settings,
) -> dict[str, Any]:
    """Validate everything, then start; returns the run's status."""
    owner = access.owner
    spec = crawls.get(crawl_id, owner).spec
    check_metadata_quota(runs.r, owner, settings)
    cls = executor_class(req.executor)
    _check_extractors(req)
    endpoint, secrets = cls.check(req.funcx_ep_id or spec.get("funcx_ep_id"), req.tokens)
    staging = None
    if spec.get("repo_type") == "globus" and not endpoint:
        # no Compute endpoint can read the files where they are: stage them here
        bucket = owner_bucket(runs.r, owner, settings)
        staging, staging_secrets = plan_staging(spec, req.tokens, settings, bucket)
        secrets = {**secrets, **staging_secrets}
    out_dir, out_root = _output_folder(req, spec, crawl_id, access, settings)
    options = {
        "executor": req.executor,
        "extractors": req.extractors,
        "add": req.add,
        "params": req.params,
        "local_mdata_path": out_dir,
        "output_root": out_root,
        "funcx_ep_id": endpoint,
        "batch_files": req.batch_files or settings.extract_batch_files,
        "time_limit": req.time_limit or settings.extract_time_limit,
        "memory_limit": req.memory_limit or settings.extract_memory_limit,
        # extraction opens files only inside the crawl's own folders
        "owner": owner,
        "roots": spec["dirs"],
        "follow_links": bool(spec.get("follow_symlinks")),
        "staging": staging,
    }
    return runs.start(crawl_id, owner, options, secrets)
