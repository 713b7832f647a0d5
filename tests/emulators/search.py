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

import threading
import uuid
from typing import Any

from tests.emulators._server import JsonServer, Reply


class SearchEmulator(JsonServer):
    def __init__(self, index_ids: list[str], token: str) -> None:
        super().__init__()
        self.token = token
        self.entries: dict[str, dict[str, Any]] = {i: {} for i in index_ids}  # subject -> entry
        self.refuse_subjects: str | None = None
        self.tasks: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

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

    def route(self, method: str, path: str, query: str, body: Any, headers: Any) -> Reply:
        status, doc = self._route(method, path, body, headers.get("Authorization"))
        return status, doc, {}
