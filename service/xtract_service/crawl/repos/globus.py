"""The Globus repo: directory listings through the Transfer API's ``operation_ls``.

Large directories are read page by page (``limit``/``offset``). Each page first takes
a request from the owner's shared token bucket (:mod:`xtract_service.crawl.ratelimit`),
so all the workers listing for one owner stay within Globus's rate limit together; a
429 pauses the bucket for every one of them and is tried again here. Server errors
(5xx) are retried with exponential back-off by globus-sdk's own retry machinery, tuned
from settings. A directory that still cannot be listed becomes an error record.
Several listings are kept in flight by the crawl worker's thread pool.
"""

from __future__ import annotations

import posixpath
import time
from datetime import datetime
from typing import Any

import globus_sdk
from globus_sdk.transport import RetryConfig
from requests.adapters import HTTPAdapter

from xtract_service.crawl.ratelimit import RateLimiter
from xtract_service.crawl.repos import Listing


def _retry_after(exc: globus_sdk.GlobusAPIError) -> float:
    """The seconds a 429 asks to wait (its Retry-After header; 1 when it gives none)."""
    try:
        return min(60.0, max(0.0, float(exc.headers.get("Retry-After", "1"))))
    except (TypeError, ValueError):
        return 1.0


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
        *,
        page_size: int = 1000,
        max_retries: int = 5,
        max_sleep: float = 10.0,
        skip: list[str] | None = None,
        limiter: RateLimiter | None = None,
        connections: int = 16,
    ) -> None:
        from xtract_service.crawl.repos.local import _skip_matcher

        authorizer = globus_sdk.AccessTokenAuthorizer(transfer_token) if transfer_token else None
        # 429s come back to list_dir, which pauses the owner's shared bucket; the SDK
        # retries only server errors
        retry = RetryConfig(
            max_retries=max_retries,
            max_sleep=max_sleep,
            retry_after_status_codes=(503,),
            transient_error_status_codes=(500, 502, 503, 504),
        )
        self.client = globus_sdk.TransferClient(
            authorizer=authorizer, app_name="xtract", retry_config=retry
        )
        # one kept-alive connection per listing in flight (requests keeps 10 by default:
        # beyond that, each listing opened a new connection and threw it away)
        pool = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, connections))
        for scheme in ("https://", "http://"):
            self.client.transport.session.mount(scheme, pool)
        self.endpoint_id = endpoint_id
        self.page_size = page_size
        self.skip = _skip_matcher(skip or [])
        self.limiter = limiter
        self.max_retries = max_retries

    def list_dir(self, path: str) -> Listing:
        out = Listing()
        offset = 0
        while True:
            try:
                page = self._page(path, offset)
            except globus_sdk.GlobusAPIError as exc:
                return out.refuse(path, f"{exc.http_status} {exc.code}: {exc.message}")
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

    def _page(self, path: str, offset: int) -> Any:
        """One page of a listing, within the owner's rate; a 429 pauses the owner's
        bucket and the page is asked again (``max_retries`` times at most)."""
        for attempt in range(self.max_retries + 1):
            if self.limiter is not None:
                self.limiter.take()
            try:
                return self.client.operation_ls(
                    self.endpoint_id, path=path, limit=self.page_size, offset=offset
                )
            except globus_sdk.GlobusAPIError as exc:
                if exc.http_status != 429 or attempt == self.max_retries:
                    raise
                wait = _retry_after(exc)
                if self.limiter is not None:
                    self.limiter.slow_down(wait)
                else:
                    time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _add(self, directory: str, item: dict[str, Any], out: Listing) -> None:
        name = item.get("name", "")
        if self.skip is not None and self.skip.match(name):
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
