"""A loopback emulator of the Globus Transfer API: ``operation_ls``, and transfers.

Serves ``GET /v0.10/operation/endpoint/{endpoint_id}/ls?path=&limit=&offset=`` from a
local folder (the endpoint's root), answering a ``file_list`` document, or Transfer's
error document (``{code, message, request_id, resource}``). It checks the bearer token,
can add latency, and can fail requests on purpose: ``fail_every`` answers every Nth
request with a 503 (or 429 with ``Retry-After``), ``broken_paths`` always answers 403.
``rate_limit`` enforces that many listing requests per second per bearer token over a
sliding second, as Globus limits each user: a request beyond it is a 429 with
``Retry-After: 1`` (``rate_limited_sent`` counts them). Like Globus, it refuses to list
a folder of more than ``dir_limit`` (100,000) entries, whatever the page asked for.

Transfers: ``GET /v0.10/submission_id``, ``POST /v0.10/transfer`` (a ``transfer``
document; the copy really happens between the endpoints' local roots), and
``GET /v0.10/task/{id}`` (``status`` ACTIVE, SUCCEEDED or FAILED with ``nice_status``).
``transfer_delay`` keeps tasks ACTIVE that long; ``fail_transfers`` fails them.

Endpoints and HTTPS: ``GET /v0.10/endpoint/{id}`` answers an endpoint document whose
``https_server`` is this emulator's ``/https/{id}``, and ``GET /https/{id}/{path}``
serves the file's bytes to a bearer of a token for the collection's HTTPS scope
(``https_token_ok``), as a Globus Connect Server collection does.

Point the real ``globus_sdk.TransferClient`` at it with
``GLOBUS_SDK_SERVICE_URL_TRANSFER=http://127.0.0.1:PORT/``.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.emulators._server import JsonServer, Reply


class TransferEmulator(JsonServer):
    def __init__(
        self,
        root: Path,
        endpoint_id: str,
        token: str,
        *,
        latency: float = 0.0,
        fail_every: int = 0,
        fail_status: int = 503,
        broken_paths: set[str] | None = None,
        token_ok: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__()
        self.root = root
        self.endpoint_id = endpoint_id
        self.token = token
        # besides ``token``: any token this says is good (tokens of the Auth emulator)
        self.token_ok = token_ok
        self.https_token_ok: Callable[[str, str], bool] | None = None  # (token, collection)
        self.https_downloads = 0
        self.latency = latency
        self.fail_every = fail_every
        self.fail_status = fail_status
        self.broken_paths = broken_paths or set()
        self.roots: dict[str, Path] = {endpoint_id: root}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.transfer_delay = 0.0
        self.fail_transfers: str | None = None
        self.requests = 0
        self.dir_limit = 100_000
        self.rate_limit = 0.0
        self.rate_limited_sent = 0
        self._recent: dict[str, list[float]] = {}
        self.failures_sent = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()

    def authorized(self, header: str | None) -> bool:
        if header == f"Bearer {self.token}":
            return True
        token = (header or "").removeprefix("Bearer ")
        return bool(self.token_ok and token and self.token_ok(token))

    def refusal(self, endpoint_id: str, auth: str | None, resource: str) -> Reply | None:
        """Transfer's 401 for a bad token, 404 for an unknown endpoint, else None."""
        if not self.authorized(auth):
            return 401, _error("AuthenticationFailed", "Token is not valid", resource), {}
        if endpoint_id not in self.roots:
            message = f"No such endpoint '{endpoint_id}'"
            return 404, _error("EndpointNotFound", message, resource), {}
        return None

    # -- the API -----------------------------------------------------------------------
    def ls(
        self, endpoint_id: str, query: dict[str, list[str]], auth: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        resource = f"/v0.10/operation/endpoint/{endpoint_id}/ls"
        refused = self.refusal(endpoint_id, auth, resource)
        if refused:
            return refused
        with self._lock:
            self.requests += 1
            n = self.requests
        if self.rate_limit and not self._within_rate(auth or ""):
            message = "Too many requests; slow down"
            return 429, _error("RateLimited", message, resource), {"Retry-After": "1"}
        if self.fail_every and n % self.fail_every == 0:
            with self._lock:
                self.failures_sent += 1
            headers = {"Retry-After": "0"} if self.fail_status == 429 else {}
            return self.fail_status, _error("ServiceUnavailable", "try again", resource), headers
        path = query.get("path", ["/"])[0]
        if path in self.broken_paths:
            return (
                403,
                _error("EndpointPermissionDenied", f"Denied by endpoint: {path}", resource),
                {},
            )
        local = self.roots[endpoint_id] / path.lstrip("/")
        if not local.is_dir():
            return (
                404,
                _error("ClientError.NotFound", f"Directory '{path}' not found", resource),
                {},
            )
        limit = int(query.get("limit", ["100000"])[0])
        offset = int(query.get("offset", ["0"])[0])
        names = sorted(os.listdir(local))
        if len(names) > self.dir_limit:
            message = (
                f"Remote Endpoint Failure: Directory limit of {self.dir_limit} reached. "
                "Sorry, Globus does not currently support interactive directory listings "
                "this large."
            )
            return 502, _error("ExternalError.DirListingFailed.SizeLimit", message, resource), {}
        page = [_entry(local / name) for name in names[offset : offset + limit]]
        doc = {
            "DATA_TYPE": "file_list",
            "endpoint": endpoint_id,
            "path": path if path.endswith("/") else path + "/",
            "absolute_path": None,
            "rename_supported": True,
            "symlink_supported": False,
            "length": len(page),
            "total": len(names),
            "offset": offset,
            "limit": limit,
            "has_next_page": offset + len(page) < len(names),
            "DATA": page,
        }
        return 200, doc, {}

    def _within_rate(self, auth: str) -> bool:
        """Whether one more request of this token fits ``rate_limit`` in the last second."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._recent.get(auth, []) if now - t < 1.0]
            ok = len(recent) < self.rate_limit
            if ok:
                recent.append(now)
            else:
                self.rate_limited_sent += 1
            self._recent[auth] = recent
        return ok

    def endpoint(self, endpoint_id: str, auth: str | None) -> Reply:
        refused = self.refusal(endpoint_id, auth, f"/v0.10/endpoint/{endpoint_id}")
        if refused:
            return refused
        return (
            200,
            {
                "DATA_TYPE": "endpoint",
                "id": endpoint_id,
                "display_name": f"emulated collection {endpoint_id[:8]}",
                "entity_type": "GCSv5_mapped_collection",
                "https_server": f"{self.url}https/{endpoint_id}",
            },
            {},
        )

    def download(self, endpoint_id: str, path: str, auth: str | None) -> Reply:
        token = (auth or "").removeprefix("Bearer ")
        if not (self.https_token_ok and token and self.https_token_ok(token, endpoint_id)):
            return 401, b"unauthorized", {"Content-Type": "text/plain"}
        root = self.roots.get(endpoint_id)
        local = (root / unquote(path).lstrip("/")) if root else None
        if local is None or not local.is_file():
            return 404, b"not found", {"Content-Type": "text/plain"}
        with self._lock:
            self.https_downloads += 1
        return 200, local.read_bytes(), {}

    # -- transfers ------------------------------------------------------------------------
    def submit(self, body: dict[str, Any], auth: str | None) -> tuple[int, dict[str, Any]]:
        if not self.authorized(auth):
            return 401, _error("AuthenticationFailed", "Token is not valid", "/transfer")
        for side in ("source_endpoint", "destination_endpoint"):
            if body.get(side) not in self.roots:
                return 404, _error(
                    "EndpointNotFound", f"No such endpoint '{body.get(side)}'", "/transfer"
                )
        if body.get("DATA_TYPE") != "transfer" or not body.get("submission_id"):
            return 400, _error("BadRequest", "not a transfer document", "/transfer")
        tid = str(uuid.uuid4())
        task = {
            "DATA_TYPE": "task",
            "task_id": tid,
            "type": "TRANSFER",
            "status": "ACTIVE",
            "nice_status": "Queued",
            "label": body.get("label"),
            "files_transferred": 0,
            "source_endpoint_id": body["source_endpoint"],
            "destination_endpoint_id": body["destination_endpoint"],
        }
        with self._lock:
            self.tasks[tid] = task
        threading.Thread(target=self._copy, args=(task, body), daemon=True).start()
        return 202, {
            "DATA_TYPE": "transfer_result",
            "task_id": tid,
            "code": "Accepted",
            "submission_id": body["submission_id"],
            "message": "The transfer has been accepted",
            "resource": "/transfer",
            "request_id": uuid.uuid4().hex[:9],
        }

    def _copy(self, task: dict[str, Any], body: dict[str, Any]) -> None:
        time.sleep(self.transfer_delay)
        if self.fail_transfers:
            with self._lock:
                task.update(status="FAILED", nice_status=self.fail_transfers)
            return
        src_root = self.roots[body["source_endpoint"]]
        dst_root = self.roots[body["destination_endpoint"]]
        copied = skipped = 0
        for item in body["DATA"]:
            src = src_root / item["source_path"].lstrip("/")
            dst = dst_root / item["destination_path"].lstrip("/")
            if not src.exists():
                if body.get("skip_source_errors"):  # Globus skips it and carries on
                    skipped += 1
                    continue
                with self._lock:
                    task.update(status="FAILED", nice_status="FILE_NOT_FOUND")
                return
            if item.get("recursive"):
                shutil.copytree(src, dst, dirs_exist_ok=True)
                copied += sum(1 for p in src.rglob("*") if p.is_file())
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                copied += 1
        with self._lock:
            task.update(
                status="SUCCEEDED",
                nice_status="OK",
                files_transferred=copied,
                files_skipped=skipped,
            )

    def route(self, method: str, path: str, query: str, body: Any, headers: Any) -> Reply:
        auth = headers.get("Authorization")
        if method == "POST":
            if path.strip("/") == "v0.10/transfer":
                status, doc = self.submit(body or {}, auth)
                return status, doc, {}
            return 404, _error("NotFound", "no such route", path), {}
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            parts = path.strip("/").split("/")
            if (
                len(parts) == 5
                and parts[:3] == ["v0.10", "operation", "endpoint"]
                and parts[4] == "ls"
            ):
                return self.ls(parts[3], parse_qs(query), auth)
            if len(parts) == 3 and parts[:2] == ["v0.10", "endpoint"]:
                return self.endpoint(parts[2], auth)
            if len(parts) >= 3 and parts[0] == "https":
                return self.download(parts[1], "/" + "/".join(parts[2:]), auth)
            if parts == ["v0.10", "submission_id"]:
                return 200, {"value": str(uuid.uuid4())}, {}
            if len(parts) == 3 and parts[:2] == ["v0.10", "task"]:
                with self._lock:
                    task = self.tasks.get(parts[2])
                if task is None:
                    return 404, _error("TaskNotFound", parts[2], path), {}
                return 200, dict(task), {}
            return 404, _error("NotFound", "no such route", path), {}
        finally:
            with self._lock:
                self._in_flight -= 1


def _error(code: str, message: str, resource: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "request_id": uuid.uuid4().hex[:9],
        "resource": resource,
    }


def _entry(p: Path) -> dict[str, Any]:
    s = p.lstat()
    kind = "link" if p.is_symlink() else "dir" if p.is_dir() else "file"
    return {
        "DATA_TYPE": "file",
        "name": p.name,
        "type": kind,
        "size": s.st_size,
        "last_modified": datetime.fromtimestamp(int(s.st_mtime), UTC).strftime(
            "%Y-%m-%d %H:%M:%S+00:00"
        ),
        "permissions": oct(s.st_mode & 0o777)[2:].rjust(4, "0"),
        "user": "xtract",
        "group": "xtract",
        "link_target": None,
    }
