"""A loopback emulator of the Globus Search ingest API.

- ``POST /v1/index/{index_id}/ingest`` with a GMetaList document -> ``{task_id,
  acknowledged, success}`` (400 for a document that is not a GMetaList, 404 for an
  unknown index);
- ``GET /v1/task/{task_id}`` -> ``{task_id, state: PENDING|SUCCESS|FAILED, message,
  index_id, task_type: "INGEST"}``.

An index can refuse entries whose subject contains a given text: their ingest task ends
FAILED, as Search does for a document it cannot index. Ingested entries are kept per
index so tests can read back what arrived.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SearchEmulator:
    def __init__(self, index_ids: list[str], token: str) -> None:
        self.token = token
        self.entries: dict[str, dict[str, Any]] = {i: {} for i in index_ids}  # subject -> entry
        self.refuse_subjects: str | None = None
        self.tasks: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> SearchEmulator:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ingest(self, index_id: str, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if index_id not in self.entries:
            return 404, {
                "code": "NotFound.NoSuchIndex",
                "message": f"no index {index_id}",
                "status": 404,
            }
        gmeta = (doc.get("ingest_data") or {}).get("gmeta")
        if doc.get("ingest_type") != "GMetaList" or not isinstance(gmeta, list):
            return 400, {
                "code": "BadRequest.ValidationError",
                "message": "not a GMetaList",
                "status": 400,
            }
        for entry in gmeta:
            if not {"subject", "visible_to", "content"} <= set(entry):
                return 400, {
                    "code": "BadRequest.ValidationError",
                    "status": 400,
                    "message": "each gmeta entry needs subject, visible_to, content",
                }
        tid = str(uuid.uuid4())
        refused = [
            e["subject"]
            for e in gmeta
            if self.refuse_subjects and self.refuse_subjects in e["subject"]
        ]
        with self._lock:
            if refused:
                self.tasks[tid] = {
                    "task_id": tid,
                    "state": "FAILED",
                    "index_id": index_id,
                    "task_type": "INGEST",
                    "message": f"could not index {refused[0]}",
                }
            else:
                for e in gmeta:
                    self.entries[index_id][e["subject"]] = e
                self.tasks[tid] = {
                    "task_id": tid,
                    "state": "SUCCESS",
                    "index_id": index_id,
                    "task_type": "INGEST",
                    "message": "ok",
                }
        return 200, {"task_id": tid, "acknowledged": True, "success": True}

    def _route(
        self, method: str, path: str, body: Any, auth: str | None
    ) -> tuple[int, dict[str, Any]]:
        if auth != f"Bearer {self.token}":
            return 401, {"code": "AuthenticationFailed", "message": "bad token", "status": 401}
        parts = path.strip("/").split("/")
        if (
            method == "POST"
            and len(parts) == 4
            and parts[:2] == ["v1", "index"]
            and parts[3] == "ingest"
        ):
            return self.ingest(parts[2], body or {})
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "task"]:
            with self._lock:
                task = self.tasks.get(parts[2])
            if task is None:
                return 404, {"code": "NotFound", "message": "no such task", "status": 404}
            return 200, dict(task)
        return 404, {"code": "NotFound", "message": f"no route {method} {path}", "status": 404}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, doc = emulator._route(
                    method, self.path.split("?")[0], body, self.headers.get("Authorization")
                )
                raw = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler
