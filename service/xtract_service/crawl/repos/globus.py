"""The Globus repo: directory listings through the Transfer API's ``operation_ls``.

Large directories are read page by page (``limit``/``offset``). The Transfer client comes
from the Globus room (:mod:`xtract_service.globus.clients`): each page takes a request
from the owner's shared bucket first, so all the workers listing for one owner stay
within Globus's rate limit together; a 429 pauses the bucket for every one of them, and
429s and server errors (5xx) are asked again by globus-sdk's retries, tuned from
settings. A directory that still cannot be listed becomes an error record. Several
listings are kept in flight by the crawl worker's thread pool.
"""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import Any

import globus_sdk

from xtract_service.crawl.repos import Listing
from xtract_service.globus import clients
from xtract_service.globus.ratelimit import RateLimiter
from xtract_service.settings import Settings


def _mtime(value: Any) -> float | None:
    if not value:
        return None
    try:
        # Transfer sends "2023-04-05 06:07:08+00:00"
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


class GlobusRepo:
    def __init__(
        self,
        endpoint_id: str,
        transfer_token: str | None,
        settings: Settings,
        *,
        skip: list[str] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        from xtract_service.crawl.repos.local import skip_matcher

        connections = settings.listings_in_flight
        self.client = clients.transfer(transfer_token, settings, limiter, connections)
        self.endpoint_id = endpoint_id
        self.page_size = settings.globus_page_size
        self.skip = skip_matcher(skip or [])

    def list_dir(self, path: str) -> Listing:
        out = Listing()
        offset = 0
        while True:
            try:
                page = self.client.operation_ls(
                    self.endpoint_id, path=path, limit=self.page_size, offset=offset
                )
            except globus_sdk.GlobusAPIError as exc:
                return out.refuse(path, clients.refusal(exc))
            except globus_sdk.NetworkError as exc:
                return out.refuse(path, f"network error: {exc}")
            entries = page.get("DATA", [])
            for item in entries:
                self._add(path, item, out)
            offset += len(entries)
            more = page.get("has_next_page")
            if more is None:  # older documents say only how many there are in all
                more = offset < int(page.get("total") or 0)
            if not more or not entries:
                return out

    def _add(self, directory: str, item: dict[str, Any], out: Listing) -> None:
        name = item.get("name", "")
        if self.skip is not None and self.skip(name):
            return
        full = posixpath.join(directory, name)
        kind = item.get("type")
        if kind == "dir":
            out.subdirs.append((full, full))
        elif kind == "file":
            out.files.append([name, int(item.get("size") or 0), _mtime(item.get("last_modified"))])
        else:
            out.links_skipped += 1

    def close(self) -> None:
        pass
