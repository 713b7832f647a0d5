"""Per-file records from metadata documents: the shape offload formats, filters and
``XtractClient.to_pandas`` share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def items_of(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One record per file of a family document::

    {"crawl_id", "family_id", "path", "size", "extension", "mtime", "mimetype",
     "unknown", "metadata": {extractor: {...}}, "errors": [...]}
    """
    errors: dict[str | None, list[dict[str, Any]]] = {}
    for e in doc.get("errors", []):
        errors.setdefault(e.get("path"), []).append(e)
    unknown = set(doc.get("unknown", []))
    out = []
    for rec in doc["files"]:
        path = rec["path"]
        md = doc.get("metadata", {}).get(path, {})
        out.append(
            {
                "crawl_id": doc.get("crawl_id"),
                "family_id": doc["family_id"],
                **rec,
                "mimetype": md.get("filetype", {}).get("mimetype"),
                "unknown": path in unknown,
                "metadata": md,
                "errors": errors.get(path, []) + errors.get(None, []),
            }
        )
    return out
