"""``XtractClient``: the SDK's door to an Xtract service.

>>> from xtract_sdk import XtractClient, XtractEndpoint
>>> xtr = XtractClient()                                        # doctest: +SKIP
>>> xtr.crawl([XtractEndpoint("local", dirs=["/data/run1"])])   # doctest: +SKIP
>>> xtr.crawl_and_wait([...])                                   # doctest: +SKIP
>>> xtr.flush_crawl_metadata(first_n_files=100)                 # doctest: +SKIP

Calls that take ``crawl_ids`` follow one rule: a single id (a string) gives that crawl's
result. A list, or ``None`` for every crawl this client started, gives what the
published SDK 0.0.7 gave: ``get_crawl_status`` and ``get_xtract_status`` a list in
``crawl_ids`` order, ``flush_crawl_metadata`` a dictionary keyed by crawl id.

Against a service run with Globus Auth (``XTRACT_AUTH=globus``, which ``/health``
tells), the client logs in with Globus (see :mod:`xtract_sdk.login`): the seed's
default scopes, the service's own scope and ``auth_scopes``; ``force_login=True``
runs the login flow again. Against a local service it needs no Globus at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from xtract_sdk._http import HttpCore, path_id
from xtract_sdk._notebook import iter_metadata, to_dataframe, to_duckdb
from xtract_sdk._waits import crawl_share, follow, wait_offloads, xtract_share
from xtract_sdk.endpoint import XtractEndpoint
from xtract_sdk.errors import ServiceUnavailableError, XtractError
from xtract_sdk.monitor import Callback, Monitor, MonitorOptions
from xtract_sdk.progress import crawl_line, xtract_line
from xtract_sdk.status import CrawlStatus, OffloadStatus, XtractStatus


class XtractClient:
    """Talks to one Xtract service.

    ``base_url`` defaults to ``$XTRACT_URL`` or ``http://127.0.0.1:8765``. The token is
    ``token``, else ``$XTRACT_TOKEN``; else, when the service uses Globus Auth, a Globus
    login (tokens kept in ``~/.xtract/storage.db``, refreshed as they expire; a service
    account with ``XTRACT_CLIENT_ID`` and ``XTRACT_CLIENT_SECRET``, see :mod:`.login`);
    else (for a service on this machine) the local token file ``~/.xtract/token``.
    ``auth_scopes`` are added to the scopes the login asks for; ``force_login`` runs
    the login flow even when stored tokens would do. ``login=False`` never logs in.
    """

    def __init__(
        self,
        auth_scopes: list[str] | None = None,
        force_login: bool = False,
        base_url: str | None = None,
        *,
        token: str | None = None,
        tokens: dict[str, str] | None = None,
        timeout: float = 30.0,
        login: bool | None = None,
        client_id: str | None = None,
        token_file: str | os.PathLike[str] | None = None,
        login_flow_manager: Any = None,
    ) -> None:
        self.auth_scopes = list(auth_scopes or [])
        self.force_login = force_login
        self.http = HttpCore(base_url, token, timeout)
        self.tokens = dict(tokens or {})  # Globus tokens passed on (e.g. {"Transfer": ...})
        self.crawl_ids: list[str] = []
        self._extracting: set[str] = set()  # crawls whose extraction this client started
        self.cid_to_xep_map: dict[str, XtractEndpoint] = {}
        self.globus_login: Any = None
        if login is not False and (force_login or login or not self.http.token_chosen):
            self._login_if_globus(client_id, token_file, login_flow_manager, bool(login))

    def _login_if_globus(
        self, client_id: str | None, token_file: Any, flow: Any, required: bool
    ) -> None:
        """Log in with Globus when the service says it uses Globus Auth."""
        try:
            auth = self.health().get("auth") or {}
        except ServiceUnavailableError:
            if required:
                raise
            return  # not reachable yet: calls will say so
        if auth.get("mode") != "globus":
            if required:
                raise XtractError("the service does not use Globus Auth (its auth is local)")
            return
        from pathlib import Path

        from xtract_sdk.login import GlobusLogin

        self.globus_login = GlobusLogin(
            auth["scope"],
            auth["resource_server"],
            self.auth_scopes,
            client_id=client_id or auth.get("native_client_id"),
            path=Path(token_file) if token_file else None,
            login_flow_manager=flow,
            ask=True if required else None,  # login=True: asked for, so it may prompt
        )
        self.globus_login.login(force=self.force_login)
        self.http.authorizer = self.globus_login.authorizer()

    def logout(self) -> None:
        """Revoke this client's Globus tokens and delete their file."""
        if self.globus_login is not None:
            self.globus_login.logout()
            self.http.authorizer = None

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def whoami(self) -> dict[str, Any]:
        """``{owner, name, auth}``: who the service takes this client to be."""
        return self.http.answer("GET", "/v1/me")

    def health(self) -> dict[str, Any]:
        """The service's ``/health`` answer."""
        return self.http.answer("GET", "/health")

    # -- crawling --------------------------------------------------------------------
    def crawl(
        self, endpoints: XtractEndpoint | Iterable[XtractEndpoint], since: str | None = None
    ) -> list[str]:
        """Start one crawl per endpoint (non-blocking); returns the new crawl ids, which
        are also added to ``crawl_ids`` and ``cid_to_xep_map``.

        ``since``: an earlier, complete crawl of the same folders. The new crawl then
        counts files ``added``, ``changed``, ``removed`` and ``unchanged`` since
        (``get_crawl_status(cid)["data"]["changes"]``, paths by :meth:`get_changes`),
        and its extraction reads only the added and changed ones::

            first = xtr.crawl(xep)[0]  # ... later, after the folder changed:
            again = xtr.crawl(xep, since=first)[0]
        """
        if isinstance(endpoints, XtractEndpoint):
            endpoints = [endpoints]
        new = []
        for xep in endpoints:
            body = {**xep.to_spec(), "tokens": self.tokens}
            if since is not None:
                body["since"] = since
            cid = self.http.request("POST", "/v1/crawls", body)["crawl_id"]
            self.crawl_ids.append(cid)
            self.cid_to_xep_map[cid] = xep
            new.append(cid)
        return new

    def _ids(self, crawl_ids: str | Sequence[str] | None) -> list[str]:
        if isinstance(crawl_ids, str):
            return [crawl_ids]
        ids = list(crawl_ids) if crawl_ids is not None else list(self.crawl_ids)
        if not ids:
            raise XtractError("no crawl ids: call crawl() first or pass crawl_ids")
        return ids

    def _in_order(self, crawl_ids: str | Sequence[str] | None, suffix: str) -> Any:
        """``GET /v1/crawls/{id}{suffix}`` per crawl: one answer for one id (a string),
        else a list in ``crawl_ids`` order, as the published SDK returned statuses."""
        got = [
            self.http.request("GET", f"/v1/crawls/{path_id(cid)}{suffix}")
            for cid in self._ids(crawl_ids)
        ]
        return got[0] if isinstance(crawl_ids, str) else got

    def _per_crawl(self, crawl_ids: str | Sequence[str] | None, call: Any) -> Any:
        results = {cid: call(path_id(cid)) for cid in self._ids(crawl_ids)}
        return results[crawl_ids] if isinstance(crawl_ids, str) else results

    def get_crawl_status(self, crawl_ids: str | Sequence[str] | None = None) -> Any:
        """``{crawl_id, status, message, data: {files_crawled, bytes_crawled, ...}}``:
        that dictionary for one crawl id, else a list of them in ``crawl_ids`` order
        (every crawl this client started by default), as the published SDK returned."""
        return self._in_order(crawl_ids, "")

    def list_crawls(self) -> list[dict[str, Any]]:
        """Every crawl of yours the service knows, newest first."""
        crawls: list[dict[str, Any]] = self.http.request("GET", "/v1/crawls")["crawls"]
        return crawls

    def forget_crawl(self, crawl_id: str) -> dict[str, Any]:
        """Delete a finished crawl and everything the service keeps of it (status, file
        records, metadata, offloads, events); files written to your folders stay."""
        return self.http.answer("DELETE", f"/v1/crawls/{path_id(crawl_id)}?forget=true")

    def share_crawl(
        self,
        crawl_id: str,
        identities: Sequence[str] = (),
        groups: Sequence[str] = (),
        *,
        remove: bool = False,
    ) -> dict[str, Any]:
        """Let Globus identities, or members of Globus groups (ids), read a crawl of
        yours: status, extraction status, metadata, offloads, events. ``remove=True``
        stops sharing with them. Returns ``{crawl_id, identities, groups}``."""
        body = {"identities": list(identities), "groups": list(groups)}
        path = f"/v1/crawls/{path_id(crawl_id)}/shares" + ("/remove" if remove else "")
        return self.http.answer("POST", path, body)

    def cancel_crawl(self, crawl_id: str) -> dict[str, Any]:
        """Stop a crawl; the files it found so far stay flushable."""
        return self.http.answer("DELETE", f"/v1/crawls/{path_id(crawl_id)}")

    def wait_for_crawls(
        self,
        crawl_ids: str | Sequence[str] | None = None,
        *,
        timeout: float | None = None,
        progress: bool = True,
    ) -> dict[str, dict[str, Any]]:
        """Block until every crawl is complete, failed or cancelled, with a live progress
        line built on the crawls' events."""
        return follow(
            self,
            self._ids(crawl_ids),
            lambda cid: self.http.request("GET", f"/v1/crawls/{path_id(cid)}"),
            lambda s: s["status"] in CrawlStatus.terminal(),
            crawl_line,
            timeout,
            progress,
            crawl_share,
        )

    def crawl_and_wait(
        self,
        endpoints: XtractEndpoint | Iterable[XtractEndpoint],
        *,
        timeout: float | None = None,
        progress: bool = True,
        since: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Crawl and block until done; returns the final status per crawl id."""
        ids = self.crawl(endpoints, since=since)
        return self.wait_for_crawls(ids, timeout=timeout, progress=progress)

    def flush_crawl_metadata(
        self, crawl_ids: str | Sequence[str] | None = None, first_n_files: int = 100
    ) -> Any:
        """Up to ``first_n_files`` file records per crawl: ``{crawl_id, file_ls,
        num_files, queue_empty, lease}``. Calling again acknowledges the last answer; an
        answer that never arrived is handed out again (each file at least once)."""
        return self._per_crawl(
            crawl_ids,
            lambda cid: self.http.request(
                "POST", f"/v1/crawls/{cid}/flush", {"first_n_files": first_n_files}
            ),
        )

    def get_changes(self, crawl_id: str, kind: str = "added", page: int = 1000) -> list[str]:
        """Every path of one class (``added``, ``changed`` or ``removed``) a crawl started
        with ``since`` found, in the order the crawl listed them."""
        out: list[str] = []
        after = ""
        while True:
            query = urlencode({"kind": kind, "after": after, "limit": page})
            got = self.http.request("GET", f"/v1/crawls/{path_id(crawl_id)}/changes?{query}")
            out += got["paths"]
            if not got["next"]:
                return out
            after = got["next"]

    # -- extraction ------------------------------------------------------------------
    def register_containers(
        self,
        endpoint: XtractEndpoint,
        container_path: str | None = None,
        containers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Record which container images serve the extractors on ``endpoint``'s funcX
        (Globus Compute) endpoint: ``container_path`` is a folder on that endpoint
        holding ``xtract-<family>.sif`` images; ``containers`` maps a family or an
        extractor to an image. Can run before, during or after a crawl."""
        if not endpoint.funcx_ep_id:
            raise XtractError("the endpoint has no funcx_ep_id to register containers for")
        body: dict[str, Any] = {"container_path": container_path, "containers": containers or {}}
        return self.http.answer(
            "POST", f"/v1/endpoints/{path_id(endpoint.funcx_ep_id)}/containers", body
        )

    def xtract(
        self,
        crawl_ids: str | Sequence[str] | None = None,
        *,
        executor: str = "local",
        extractors: list[str] | None = None,
        add: list[str] | None = None,
        params: dict[str, dict[str, Any]] | None = None,
        local_mdata_path: str | None = None,
        **options: Any,
    ) -> int:
        """Start extracting every crawl this client started (or ``crawl_ids``), on
        ``executor`` (``local``, ``parsl`` or ``globus-compute``). Extraction may begin
        while a crawl still runs. Returns 200 once every extraction is accepted (the
        service answers each with 202 Accepted), as the published SDK did."""
        for cid in self._ids(crawl_ids):
            xep = self.cid_to_xep_map.get(cid)
            body: dict[str, Any] = {
                "executor": executor,
                "extractors": extractors,
                "add": add or [],
                "params": params or {},
                "local_mdata_path": local_mdata_path or (xep.local_mdata_path if xep else None),
                "tokens": self.tokens,
                **options,
            }
            if xep is not None and xep.funcx_ep_id and "funcx_ep_id" not in options:
                body["funcx_ep_id"] = xep.funcx_ep_id
            self.http.request("POST", f"/v1/crawls/{path_id(cid)}/xtract", body)
            self._extracting.add(cid)
        return 200

    def retry(self, crawl_id: str, errors: bool = False) -> dict[str, Any]:
        """Extract again only the families that failed (with ``errors``, also those where
        an extractor failed); returns ``{crawl_id, retried}``."""
        return self.http.answer(
            "POST", f"/v1/crawls/{path_id(crawl_id)}/xtract/retry", {"errors": errors}
        )

    def clear(self, crawl_id: str, extractor: str | None = None) -> dict[str, Any]:
        """Forget extraction results: all of them, or one extractor's (then ``retry``)."""
        cleared = self.http.answer(
            "POST", f"/v1/crawls/{path_id(crawl_id)}/xtract/clear", {"extractor": extractor}
        )
        if extractor is None:  # no extraction left: the next xtract_and_wait starts one
            self._extracting.discard(crawl_id)
        return cleared

    def get_xtract_status(self, crawl_ids: str | Sequence[str] | None = None) -> Any:
        """``{'xtract_status', 'xtract_counters': {...}, ...}`` for one crawl id, or a
        list of them, one per crawl (every crawl this client started by default)."""
        return self._in_order(crawl_ids, "/xtract")

    def xtract_and_wait(
        self,
        crawl_ids: str | Sequence[str] | None = None,
        *,
        timeout: float | None = None,
        progress: bool = True,
        **xtract_options: Any,
    ) -> list[dict[str, Any]]:
        """Extract and block until every extraction is COMPLETED or FAILED, with a live
        progress line built on events; returns the final statuses. A crawl whose
        extraction this client already started (``xtract()`` just before, as a notebook
        run top to bottom does) is waited for, not started again."""
        ids = self._ids(crawl_ids)
        fresh = [cid for cid in ids if cid not in self._extracting]
        if fresh:
            self.xtract(fresh, **xtract_options)
        return self.wait_for_xtract(ids, timeout=timeout, progress=progress)

    def wait_for_xtract(
        self,
        crawl_ids: str | Sequence[str] | None = None,
        *,
        timeout: float | None = None,
        progress: bool = True,
    ) -> list[dict[str, Any]]:
        """Block until every extraction is COMPLETED or FAILED (after ``xtract`` or
        ``retry``); returns the final statuses in the order of ``crawl_ids``."""
        ids = self._ids(crawl_ids)
        done = follow(
            self,
            ids,
            lambda cid: self.http.request("GET", f"/v1/crawls/{path_id(cid)}/xtract"),
            lambda s: s["xtract_status"] in XtractStatus.terminal(),
            xtract_line,
            timeout,
            progress,
            xtract_share,
        )
        return [done[cid] for cid in ids]

    def get_metadata(
        self, crawl_id: str, after: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """One page of metadata documents: ``{documents, count, next}``; pass ``next``
        as ``after`` for the following page."""
        query = f"?limit={int(limit)}" + (f"&after={quote(after, safe='')}" if after else "")
        page: dict[str, Any] = self.http.request(
            "GET", f"/v1/crawls/{path_id(crawl_id)}/metadata{query}"
        )
        return page

    def search_metadata(
        self,
        crawl_id: str,
        *,
        path: str = "",
        type: str = "",
        extractor: str = "",
        field: str = "",
        error: str = "",
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Files whose metadata matches every filter given, each ``{path, family_id,
        mimetype, extractors, errors, metadata}`` (at most ``limit``; all by default)::

            xtr.search_metadata(cid, type="text/csv", field="name=temperature")
        """
        query: dict[str, Any] = {
            k: v
            for k, v in (
                ("path", path),
                ("type", type),
                ("extractor", extractor),
                ("field", field),
                ("error", error),
            )
            if v
        }
        out: list[dict[str, Any]] = []
        after = None
        while limit is None or len(out) < limit:
            page = {**query, "limit": 500, **({"after": after} if after else {})}
            got = self.http.request(
                "GET", f"/v1/crawls/{path_id(crawl_id)}/metadata/search?{urlencode(page)}"
            )
            out += got["files"]
            after = got["next"]
            if not after:
                break
        return out if limit is None else out[:limit]

    def index_status(self, crawl_id: str) -> dict[str, Any]:
        """The crawl's metadata index: ``{parts: [{name, rows, bytes}], rows, pending,
        current_rows_sql}`` (``pending``: documents wait to be indexed)."""
        return self.http.answer("GET", f"/v1/crawls/{path_id(crawl_id)}/index")

    def index_part(self, crawl_id: str, name: str) -> bytes:
        """One Parquet part of the crawl's metadata index."""
        return self.http.content(f"/v1/crawls/{path_id(crawl_id)}/index/{path_id(name)}")

    def rebuild_index(self, crawl_id: str) -> dict[str, Any]:
        """Have the service write the crawl's index anew from its documents."""
        return self.http.answer("POST", f"/v1/crawls/{path_id(crawl_id)}/index/rebuild")

    def list_formats(self) -> list[dict[str, Any]]:
        """The export formats (drivers) the service has, plug-ins' too, with their
        typed parameters."""
        found: list[dict[str, Any]] = self.http.request("GET", "/v1/formats")["formats"]
        return found

    def list_destinations(self) -> list[dict[str, Any]]:
        """Where offloads can send metadata (drivers, plug-ins' too), with their typed
        parameters."""
        found: list[dict[str, Any]] = self.http.request("GET", "/v1/formats")["destinations"]
        return found

    def list_extractors(self) -> list[dict[str, Any]]:
        """The extractors the service runs, with their parameters."""
        found: list[dict[str, Any]] = self.http.request("GET", "/v1/extractors")["extractors"]
        return found

    # -- offload and notebook helpers ----------------------------------------------------
    def offload_metadata(
        self,
        dest_ep_id: str | None = None,
        dest_path: str = "",
        timeout: int = 600,
        delete_source: bool = False,
        *,
        crawl_ids: str | Sequence[str] | None = None,
        format: str = "family_json",
        format_params: dict[str, Any] | None = None,
        filters: list[dict[str, Any]] | None = None,
        transform: dict[str, Any] | None = None,
        partitions: int | None = None,
        move: str | None = None,
        move_params: dict[str, Any] | None = None,
        wait: bool = True,
        progress: bool = False,
    ) -> str:
        """Export the metadata of every crawl this client started (or ``crawl_ids``)
        into a new folder ``dest_path/YYYY-MM-DD-hh.mm.ss`` (one sub-folder per crawl) on
        the Globus endpoint ``dest_ep_id``, or in a local folder when it is ``None``.
        ``partitions`` splits the writing into shares the service's offload workers
        take up side by side (default: one per offload worker the service runs).
        ``move`` names a plug-in destination (``list_destinations()``) and
        ``move_params`` its parameters; it returns where that destination sent them.
        Returns that folder's path; raises :class:`XtractError` with the reason if an
        offload failed (its source metadata is kept)."""
        from datetime import UTC, datetime

        folder = datetime.now(UTC).strftime("%Y-%m-%d-%H.%M.%S")
        started = []
        for cid in self._ids(crawl_ids):
            body = {
                "format": format,
                "format_params": format_params or {},
                "filters": filters or [],
                "transform": transform or {},
                "dest_ep_id": dest_ep_id,
                "dest_path": dest_path,
                "folder": folder,
                "timeout": timeout,
                "delete_source": delete_source,
                "tokens": self.tokens,
            }
            if partitions is not None:
                body["partitions"] = partitions
            if move is not None:
                body["move"], body["move_params"] = move, move_params or {}
            status = self.http.request("POST", f"/v1/crawls/{path_id(cid)}/offload", body)
            started.append((cid, status["offload_id"]))
        if not wait:
            return os.path.join(dest_path, folder)
        statuses = wait_offloads(self.http, started, None, progress)
        failed = [s for s in statuses if s["status"] == OffloadStatus.FAILED]
        if failed:
            raise XtractError(
                "; ".join(f"offload of {s['crawl_id']}: {s['message']}" for s in failed)
            )
        destination: str = statuses[0]["destination"]
        if move not in (None, "local", "globus"):
            return destination  # where the plug-in destination says it sent them
        return os.path.dirname(destination.rstrip("/"))

    def search_ingest(
        self,
        index_id: str,
        crawl_ids: str | Sequence[str] | None = None,
        *,
        filters: list[dict[str, Any]] | None = None,
        visible_to: list[str] | None = None,
        batch_size: int | None = None,
        timeout: float = 600,
        wait: bool = True,
    ) -> list[dict[str, Any]]:
        """Ingest the metadata into a Globus Search index (needs ``tokens={"Search":
        ...}``); returns each ingest's status with its Search tasks' states."""
        started = []
        for cid in self._ids(crawl_ids):
            body: dict[str, Any] = {
                "index_id": index_id,
                "filters": filters or [],
                "timeout": timeout,
                "tokens": self.tokens,
            }
            params: dict[str, Any] = {"visible_to": visible_to} if visible_to else {}
            if batch_size:
                params["max_items"] = batch_size  # entries per ingest document (task)
            body["format_params"] = params
            status = self.http.request("POST", f"/v1/crawls/{path_id(cid)}/search", body)
            started.append((cid, status["offload_id"]))
        if not wait:
            return [{"crawl_id": c, "offload_id": o} for c, o in started]
        return wait_offloads(self.http, started, None, progress=False)

    def get_offload_status(self, crawl_id: str) -> list[dict[str, Any]]:
        """The crawl's offloads and search ingests, newest first."""
        found: list[dict[str, Any]] = self.http.request(
            "GET", f"/v1/crawls/{path_id(crawl_id)}/offload"
        )["offloads"]
        return found

    def add_webhooks(self, crawl_id: str, urls: list[str]) -> dict[str, Any]:
        """URLs to POST this crawl's STARTED, COMPLETED and FAILED events to."""
        return self.http.answer("POST", f"/v1/crawls/{path_id(crawl_id)}/webhooks", {"urls": urls})

    def metadata(
        self, crawl_id: str, *, page: int = 200, follow: bool = True, interval: float = 0.5
    ) -> Iterator[dict[str, Any]]:
        """Every metadata document of a crawl, one per family, fetched a page at a time.
        With ``follow`` the iterator waits for a running extraction to finish."""
        return iter_metadata(self, crawl_id, page, follow, interval)

    def to_pandas(self, crawl_id: str) -> Any:
        """A pandas DataFrame with one typed row per file, the columns of a Parquet
        export (path, size, extension, mtime, mimetype, unknown, family_id, a struct per
        extractor, errors, metadata_json): :meth:`to_duckdb`'s table."""
        return to_dataframe(self, crawl_id)

    def to_duckdb(self, crawl_id: str, connection: Any = None) -> Any:
        """The crawl's metadata as the DuckDB table ``files`` (typed, one row per file)
        in a new in-memory connection, or in ``connection``:

        >>> con = xtr.to_duckdb(crawl_id)                               # doctest: +SKIP
        >>> con.sql("SELECT tabular.rows, path FROM files WHERE tabular.header").df()
        """
        return to_duckdb(self, crawl_id, connection)

    # -- events -------------------------------------------------------------------------
    def monitor(
        self,
        crawl_id: str,
        callbacks: list[Callback] | None = None,
        options: MonitorOptions | None = None,
    ) -> Monitor:
        """A :class:`~xtract_sdk.monitor.Monitor` of the crawl's live events (call
        ``start()``, or use it with ``with``)."""
        return Monitor(self, crawl_id, callbacks, options)
