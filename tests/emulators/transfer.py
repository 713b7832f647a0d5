"""A loopback emulator of the Globus Transfer API's ``operation_ls``.

Serves ``GET /v0.10/operation/endpoint/{endpoint_id}/ls?path=&limit=&offset=`` from a
local folder (the endpoint's root), answering a ``file_list`` document, or Transfer's
error document (``{code, message, request_id, resource}``). It checks the bearer token,
can add latency, and can fail requests on purpose: ``fail_every`` answers every Nth
request with a 503 (or 429 with ``Retry-After``), ``broken_paths`` always answers 403.

Point the real ``globus_sdk.TransferClient`` at it with
``GLOBUS_SDK_SERVICE_URL_TRANSFER=http://127.0.0.1:PORT/``.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse


class TransferEmulator:
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
    ) -> None:
        self.root = root
        self.endpoint_id = endpoint_id
        self.token = token
        self.latency = latency
        self.fail_every = fail_every
        self.fail_status = fail_status
        self.broken_paths = broken_paths or set()
        self.requests = 0
        self.failures_sent = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> TransferEmulator:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the API -----------------------------------------------------------------------
    def ls(
        self, endpoint_id: str, query: dict[str, list[str]], auth: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        resource = f"/v0.10/operation/endpoint/{endpoint_id}/ls"
        if auth != f"Bearer {self.token}":
            return 401, _error("AuthenticationFailed", "Token is not valid", resource), {}
        if endpoint_id != self.endpoint_id:
            return (
                404,
                _error("EndpointNotFound", f"No such endpoint '{endpoint_id}'", resource),
                {},
            )
        with self._lock:
            self.requests += 1
            n = self.requests
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
        local = self.root / path.lstrip("/")
        if not local.is_dir():
            return (
                404,
                _error("ClientError.NotFound", f"Directory '{path}' not found", resource),
                {},
            )
        limit = int(query.get("limit", ["100000"])[0])
        offset = int(query.get("offset", ["0"])[0])
        names = sorted(os.listdir(local))
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

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with emulator._lock:
                    emulator._in_flight += 1
                    emulator.max_in_flight = max(emulator.max_in_flight, emulator._in_flight)
                try:
                    if emulator.latency:
                        time.sleep(emulator.latency)
                    url = urlparse(self.path)
                    parts = url.path.strip("/").split("/")
                    if (
                        len(parts) == 5
                        and parts[:3] == ["v0.10", "operation", "endpoint"]
                        and parts[4] == "ls"
                    ):
                        status, body, headers = emulator.ls(
                            parts[3], parse_qs(url.query), self.headers.get("Authorization")
                        )
                    else:
                        status, body, headers = (
                            404,
                            _error("NotFound", "no such route", url.path),
                            {},
                        )
                    raw = json.dumps(body).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(raw)
                finally:
                    with emulator._lock:
                        emulator._in_flight -= 1

        return Handler


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
