"""The metadata index (``extraction/index.py``): ``GET /v1/crawls/{id}/index`` (its
parts, rows, and whether documents wait to be indexed), ``GET
/v1/crawls/{id}/index/{part}`` (one part's Parquet bytes, for the SDK's DuckDB), and
``POST /v1/crawls/{id}/index/rebuild``. The caller's SQL runs in the caller's own
DuckDB over the parts it fetched: nothing a caller sends runs in the service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from xtract_service.api.deps import AppSettings, Crawls, Owner, Reader, Redis
from xtract_service.bounds import Name
from xtract_service.extraction.index import part_bytes, rebuild, summary

router = APIRouter(tags=["metadata index"])


@router.get("/v1/crawls/{crawl_id}/index")
def index_status(
    crawl_id: Name, owner: Reader, crawls: Crawls, r: Redis, settings: AppSettings
) -> dict[str, Any]:
    """``{parts: [{name, rows, bytes}], rows, pending, current_rows_sql}``: ``pending``
    says documents wait to be indexed (an extraction running, or the indexer behind);
    ``current_rows_sql`` is the DuckDB view over the parts that keeps each family's
    newest rows (``{parts}``: the list of part paths)."""
    crawls.get(crawl_id, owner)
    return summary(r, settings, crawl_id)


@router.get(
    "/v1/crawls/{crawl_id}/index/{part}",
    response_class=Response,
    responses={200: {"content": {"application/vnd.apache.parquet": {}}}},
)
def index_part(
    crawl_id: Name, part: Name, owner: Reader, crawls: Crawls, settings: AppSettings
) -> Response:
    """One part of the index, as written (Parquet)."""
    crawls.get(crawl_id, owner)
    return Response(
        part_bytes(settings, crawl_id, part), media_type="application/vnd.apache.parquet"
    )


@router.post("/v1/crawls/{crawl_id}/index/rebuild", status_code=202)
def rebuild_index(
    crawl_id: Name, owner: Owner, crawls: Crawls, r: Redis, settings: AppSettings
) -> dict[str, Any]:
    """Forget the crawl's index and write it anew from its documents (the record)."""
    crawls.get(crawl_id, owner)
    rebuild(r, settings, crawl_id, owner)
    return {"crawl_id": crawl_id, "pending": True}
