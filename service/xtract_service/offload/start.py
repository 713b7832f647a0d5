"""Starting an offload: what to export, how and where to, checked before the job is
queued (a bad format, path or endpoint is refused at the door)."""

from __future__ import annotations

import os
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xtract_extractors.safepath import UnsafePath, check_name, within
from xtract_service import crawl_record
from xtract_service.access import Access, own_folder
from xtract_service.bounds import Name, Params, PathText, Tokens
from xtract_service.crawl.store import CrawlStore
from xtract_service.errors import BadRequest, Conflict
from xtract_service.extraction.runs import ExtractionRuns
from xtract_service.globus import tokens as names
from xtract_service.offload.formats import WRITERS, check_format, describe_formats
from xtract_service.offload.moves import BUILT_IN, check_destination, describe_destinations
from xtract_service.offload.pipeline import Filter, Transform
from xtract_service.offload.store import OffloadStore
from xtract_service.settings import Settings

MAX_FILTERS = 50
MAX_PARTITIONS = 64
# the tokens an offload keeps (sealed), by any of their names
SECRET_NAMES = (*names.ALIASES[names.TRANSFER], *names.ALIASES[names.SEARCH])


class OffloadRequest(BaseModel):
    """What to export, how, and where to."""

    model_config = ConfigDict(extra="forbid")

    format: Name = "family_json"
    format_params: Params = Field(default_factory=dict)
    filters: list[Filter] = Field(default_factory=list, max_length=MAX_FILTERS)
    transform: Transform = Field(default_factory=Transform)
    dest_ep_id: Name | None = Field(None, description="a Globus endpoint; none: a local folder")
    dest_path: PathText = Field("", description="folder under which the new folder is made")
    folder: Name | None = Field(None, description="the new folder's name (YYYY-MM-DD-hh.mm.ss)")
    timeout: float = Field(600, gt=0, le=7 * 24 * 3600)
    delete_source: bool = False
    move: Name = Field(
        "local",
        description="the destination driver: local, globus (set by dest_ep_id), search, "
        "or a plug-in's (GET /v1/formats lists them)",
    )
    move_params: Params = Field(
        default_factory=dict, description="a plug-in destination's typed parameters"
    )
    index_id: Name | None = None
    partitions: int | None = Field(
        None,
        ge=1,
        le=MAX_PARTITIONS,
        description="how many shares the writing is split into, each taken up by any "
        "offload worker (default: the service's XTRACT_OFFLOADERS; always 1 for a "
        "format that writes one document, such as datacite)",
    )
    tokens: Tokens = Field(default_factory=dict)


class SearchRequest(BaseModel):
    """An offload straight into a Globus Search index."""

    model_config = ConfigDict(extra="forbid")

    index_id: Name
    filters: list[Filter] = Field(default_factory=list, max_length=MAX_FILTERS)
    transform: Transform = Field(default_factory=Transform)
    format_params: Params = Field(default_factory=dict, description="visible_to, ...")
    timeout: float = Field(600, gt=0, le=7 * 24 * 3600)
    tokens: Tokens = Field(default_factory=dict, description="{'Search': '...'}")

    def as_offload(self) -> OffloadRequest:
        return OffloadRequest(
            format="globus_search",
            format_params=self.format_params,
            filters=self.filters,
            transform=self.transform,
            move="search",
            index_id=self.index_id,
            timeout=self.timeout,
            tokens=self.tokens,
        )


def drivers_doc() -> str:
    """The installed formats and destinations with their typed parameters, as Markdown
    for the offload route's OpenAPI description."""
    lines = []
    for title, field, found in (
        ("Formats", "format_params", describe_formats()),
        ("Destinations", "move_params", describe_destinations()),
    ):
        lines += [f"**{title}** (parameters in `{field}`):", ""]
        for d in found:
            params = "; ".join(
                f"`{p['name']}` ({p['type']}{'' if p['optional'] else ', required'}): {p['desc']}"
                for p in d["params"]
            )
            lines.append(f"- `{d['name']}`: {d['description']}" + (f" {params}" if params else ""))
        lines.append("")
    return "\n".join(lines)


def validate_request(req: OffloadRequest, access: Access, settings: Settings) -> str | None:
    """Everything that can be checked before the run starts (ValueError says what);
    returns the root beneath which a local destination is opened. Search entries nobody
    said who may see are their owner's (:func:`_principal`)."""
    unsaid = req.format == "globus_search" and "visible_to" not in req.format_params
    root = _validate(req, access, settings)
    if unsaid:
        principal = _principal(access.owner, ingest=req.move == "search")
        req.format_params = {**req.format_params, "visible_to": [principal]}
    return root


def _validate(req: OffloadRequest, access: Access, settings: Settings) -> str | None:
    check_format(req.format, req.format_params)
    if not WRITERS[req.format].partitionable:
        if (req.partitions or 1) > 1:
            raise ValueError(f"format {req.format!r} writes one document; it has no partitions")
        req.partitions = 1
    req.partitions = req.partitions or max(1, settings.offloaders)
    req.move_params = check_destination(req.move, req.move_params)
    if req.move not in BUILT_IN:
        return None  # a plug-in destination: where it sends is its own business
    if req.folder is not None:
        try:
            check_name(req.folder)
        except UnsafePath as exc:
            raise ValueError(f"folder: {exc}") from None
    if req.move == "search":
        if not req.index_id:
            raise ValueError("a search ingest needs index_id")
        _uuid(req.index_id, "index_id")
        return None
    if req.dest_ep_id and req.dest_ep_id != "local":
        _uuid(req.dest_ep_id, "dest_ep_id")
        req.move = "globus"
        if not settings.globus_collection_id:
            raise ValueError(
                "this service has no Globus collection to send from; "
                "set XTRACT_GLOBUS_COLLECTION_ID and XTRACT_GLOBUS_COLLECTION_ROOT"
            )
        if not req.dest_path.startswith("/"):
            raise ValueError("dest_path on a Globus endpoint must be absolute (start with '/')")
        root = os.path.realpath(settings.globus_collection_root or settings.home)
        staging = os.path.realpath(settings.home / "offloads")
        if not within(staging, root):
            raise ValueError(f"{staging} is not inside XTRACT_GLOBUS_COLLECTION_ROOT ({root})")
        return None
    req.move = "local"
    if not req.dest_path:
        req.dest_path, root = own_folder(settings, "exports")
        return root
    req.dest_path, root = access.check(req.dest_path, "dest_path")
    return root


def search_defaults(
    crawls: CrawlStore, crawl_id: str, params: dict[str, Any], shared: bool
) -> dict[str, Any]:
    """Search entries' subjects name the file where it lives (``globus://<endpoint>`` and
    its path for a crawl of a Globus endpoint, ``file://`` and the path for a local
    one), unless the caller set ``subject_prefix``; with ``shared`` (the caller did not
    say who may see them), entries are seen by their owner and by whom the crawl is
    shared with."""
    out = dict(params)
    if "subject_prefix" not in out:
        out["subject_prefix"] = uri_prefix(crawls, crawl_id)
    visible = list(out.get("visible_to") or [])
    if shared and visible and "public" not in visible:
        for member in crawls.shared_with(crawl_id):
            kind, _, ident = member.partition(":")
            urn = {"identity": "urn:globus:auth:identity:", "group": "urn:globus:groups:id:"}.get(
                kind
            )
            if urn and urn + ident not in visible:
                visible.append(urn + ident)
        out["visible_to"] = visible
    return out


def uri_prefix(crawls: CrawlStore, crawl_id: str) -> str:
    """What a crawled path is prefixed with to name the file where it lives:
    ``globus://<endpoint>`` for a crawl of a Globus endpoint, else ``file://``."""
    spec = crawl_record.spec(crawls.r, crawl_id) or {}
    eid = spec.get("globus_ep_id")
    return f"globus://{eid}" if spec.get("repo_type") == "globus" and eid else "file://"


def _principal(owner: str, *, ingest: bool) -> str:
    """Who sees Search entries nobody said who may see: their owner, a Globus identity.
    An owner who is not one (a local token) must say before an ingest: the entries carry
    crawl ids and paths, so an index never gets them public by default (GMetaList files
    written to the owner's own folder say ``public``, for whoever ingests them to decide)."""
    try:
        return f"urn:globus:auth:identity:{uuid.UUID(owner)}"
    except ValueError:
        if not ingest:
            return "public"
        raise ValueError(
            "visible_to: say who may see the Search entries (Globus principals such as "
            "urn:globus:auth:identity:<id> or urn:globus:groups:id:<id>, or ['public']); "
            "they carry crawl ids and paths, so they are not public unless you say so"
        ) from None


def _uuid(value: str, name: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a UUID") from None


def start_offload(
    crawl_id: str,
    access: Access,
    req: OffloadRequest,
    crawls: CrawlStore,
    runs: ExtractionRuns,
    offloads: OffloadStore,
    settings: Settings,
) -> dict[str, Any]:
    """Check the request and queue the job; returns its status."""
    owner = access.owner
    crawls.get(crawl_id, owner)
    unsaid = "visible_to" not in req.format_params  # the owner's, and the crawl's sharers'
    try:  # a malformed request is said first, whatever state the crawl is in
        root = validate_request(req, access, settings)
    except ValueError as exc:
        raise BadRequest(str(exc), "bad_offload") from None
    if not runs.exists(crawl_id):
        raise Conflict("no metadata to offload yet: run xtract on this crawl first", "no_metadata")
    if req.format == "globus_search":
        req.format_params = search_defaults(crawls, crawl_id, req.format_params, unsaid)
    if req.format in ("rocrate", "schemaorg") and not req.format_params.get("uri_prefix"):
        req.format_params = {**req.format_params, "uri_prefix": uri_prefix(crawls, crawl_id)}
    secrets = {k: v for k, v in req.tokens.items() if k in SECRET_NAMES}
    spec = req.model_dump(exclude={"tokens"})
    oid = offloads.create(
        crawl_id, owner, spec, secrets, dest_root=root, partitions=req.partitions or 1
    )
    return offloads.status(oid)
