"""A loopback emulator of the Globus Search ingest API.

- ``POST /v1/index/{index_id}/ingest`` with a GMetaList document -> ``{task_id,
  acknowledged, success}`` (400 for a document that is not a GMetaList, 404 for an
  unknown index);
- ``POST /v1/index/{index_id}/batch_delete_by_subject`` with ``{subjects: [...]}`` ->
  ``{task_id}`` (the entries of those subjects deleted; unknown subjects are no error);
- ``GET /v1/task/{task_id}`` -> ``{task_id, state: PENDING|SUCCESS|FAILED, message,
  index_id, task_type: "INGEST" | "DELETE_BY_SUBJECT"}``.

The documented limits are enforced: an ingest document of more than 10 MB is refused
with 413, one of more than 100 entries with 400.

An index can refuse entries whose subject contains a given text: their ingest task ends
FAILED, as Search does for a document it cannot index. Ingested entries are kept per
index so tests can read back what arrived.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from tests.emulators._server import JsonServer, Reply

MAX_ENTRIES = 100  # entries of one ingest document (Globus Search's limit)
MAX_BYTES = 10_000_000  # bytes of one request


class SearchEmulator(JsonServer):
    def __init__(self, index_ids: list[str], token: str) -> None:
        super().__init__()
        self.token = token
        self.entries: dict[str, dict[str, Any]] = {i: {} for i in index_ids}  # subject -> entry
        self.refuse_subjects: str | None = None
        self.tasks: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []  # every subject a delete named, in order
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
        if len(gmeta) > MAX_ENTRIES:
            return 400, {
                "code": "BadRequest.TooManyEntries",
                "message": f"{len(gmeta)} entries; at most {MAX_ENTRIES} a document",
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

    def delete_subjects(self, index_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if index_id not in self.entries:
            return 404, {"code": "NotFound.NoSuchIndex", "message": "no index", "status": 404}
        subjects = body.get("subjects")
        if not isinstance(subjects, list) or not all(isinstance(x, str) for x in subjects):
            return 400, {"code": "BadRequest", "message": "subjects: strings", "status": 400}
        tid = str(uuid.uuid4())
        with self._lock:
            for subject in subjects:
                self.entries[index_id].pop(subject, None)
            self.deleted.extend(subjects)
            self.tasks[tid] = {
                "task_id": tid,
                "state": "SUCCESS",
                "index_id": index_id,
                "task_type": "DELETE_BY_SUBJECT",
                "message": f"{len(subjects)} subjects",
            }
        return 200, {"task_id": tid}

    def _route(
        self, method: str, path: str, body: Any, auth: str | None
    ) -> tuple[int, dict[str, Any]]:
        if auth != f"Bearer {self.token}":
            return 401, {"code": "AuthenticationFailed", "message": "bad token", "status": 401}
        parts = path.strip("/").split("/")
        posts = {"ingest": self.ingest, "batch_delete_by_subject": self.delete_subjects}
        if method == "POST" and len(parts) == 4 and parts[:2] == ["v1", "index"]:
            action = posts.get(parts[3])
            if action is not None:
                return action(parts[2], body or {})
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "task"]:
            with self._lock:
                task = self.tasks.get(parts[2])
            if task is None:
                return 404, {"code": "NotFound", "message": "no such task", "status": 404}
            return 200, dict(task)
        return 404, {"code": "NotFound", "message": f"no route {method} {path}", "status": 404}

    def route(self, method: str, path: str, query: str, body: Any, headers: Any) -> Reply:
        if int(headers.get("Content-Length") or 0) > MAX_BYTES:
            doc = {"code": "RequestTooLarge", "message": "over 10 MB", "status": 413}
            return 413, doc, {}
        status, doc = self._route(method, path, body, headers.get("Authorization"))
        return status, doc, {}
