"""A loopback emulator of the Globus Compute web service and one endpoint behind it.

Implements the calls Xtract makes, with the service's documented shapes:

- ``POST /v3/functions`` ``{function_name, function_code, serialized, meta}`` ->
  ``{function_uuid}``
- ``GET /v2/endpoints/{id}/status`` -> ``{status: online|offline, details}``
- ``POST /v3/endpoints/{id}/submit`` ``{create_queue, tasks: {function_id: [payload]},
  user_endpoint_config?, result_serializers?}`` -> ``{request_id, task_group_id,
  endpoint_id, tasks: {function_id: [task_id]}}``; results are serialized with the first
  of ``result_serializers`` (import paths of globus-compute-sdk strategies), as an
  endpoint does, else with the SDK's default (dill)
- ``POST /v2/batch_status`` ``{task_ids}`` -> ``{response: "batch", results: {task_id:
  {task_id, status, result | exception, completion_t}}}``

Submitted tasks really run: function and arguments are unpacked with globus-compute-sdk's
serializer and called on a thread pool, as an endpoint worker would. The endpoint can be
taken offline, or made to refuse submissions, and it keeps every submission it took;
with ``container_run`` set (a podman command line up to the image), a submission whose
``user_endpoint_config`` names a ``docker`` or ``podman`` container runs each task in
that image instead, as a templated endpoint's worker does (:data:`CONTAINER_WORKER`);
``latency`` holds each task back that long before it runs (a real endpoint's queue and
round trip). A hostile endpoint is one whose ``answer`` replaces each result it sends
with what it likes (a pickle whose loading runs code, say).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.emulators._server import JsonServer, Reply

# the endpoint and token the tests' emulated Compute service knows
ENDPOINT = str(uuid.uuid4())
TOKEN = "compute-token-for-tests"


class ComputeEmulator(JsonServer):
    def __init__(
        self,
        endpoint_id: str,
        token: str,
        workers: int = 2,
        token_ok: Callable[[str], bool] | None = None,
    ) -> None:
        from globus_compute_sdk.serialize import ComputeSerializer

        super().__init__()
        self.endpoint_id = endpoint_id
        self.token = token
        self.token_ok = token_ok  # besides ``token``: tokens of the Auth emulator
        self.online = True
        self.refuse: str | None = None  # a reason to answer submissions with 403
        self.latency = 0.0
        self.answer: Callable[[Any], str] | None = None  # a hostile endpoint's results
        self.serde = ComputeSerializer()
        self.functions: dict[str, Any] = {}
        self.function_code: dict[str, str] = {}  # as registered: what a container unpacks
        self.container_run: list[str] | None = None  # ["podman", ..., "run", ...] or None
        self.containers_ran: list[str] = []  # the image of each task run in a container
        self.tasks: dict[str, dict[str, Any]] = {}
        self.submissions: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="compute-endpoint")

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the service ----------------------------------------------------------------------
    def register_function(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        packed = self.serde.unpack_buffers(body["function_code"])
        function = self.serde.deserialize(packed[0])
        fid = str(uuid.uuid4())
        with self._lock:
            self.functions[fid] = function
            self.function_code[fid] = packed[0]
        return 200, {"function_uuid": fid}

    def status(self, endpoint_id: str) -> tuple[int, dict[str, Any]]:
        if endpoint_id != self.endpoint_id:
            return 404, _error("ENDPOINT_NOT_FOUND", f"Endpoint {endpoint_id} not found")
        state = "online" if self.online else "offline"
        return 200, {"status": state, "details": {"total_workers": 2, "idle_workers": 2}}

    def submit(self, endpoint_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if endpoint_id != self.endpoint_id:
            return 404, _error("ENDPOINT_NOT_FOUND", f"Endpoint {endpoint_id} not found")
        if self.refuse:
            return 403, _error("FUNCTION_NOT_PERMITTED", self.refuse)
        out: dict[str, list[str]] = {}
        with self._lock:
            self.submissions.append(body)
        for fid, payloads in body["tasks"].items():
            if fid not in self.functions:
                return 400, _error("FUNCTION_NOT_FOUND", f"Function {fid} not found")
            for payload in payloads:
                tid = str(uuid.uuid4())
                with self._lock:
                    self.tasks[tid] = {"task_id": tid, "status": "waiting-for-ep"}
                serializers = body.get("result_serializers") or []
                image = self._container_of(body.get("user_endpoint_config") or {})
                if image is not None:
                    job = {"function": self.function_code[fid], "payload": payload}
                    job["serializer"] = (serializers or [""])[0]
                    self._pool.submit(self._in_container, tid, image, job)
                    out.setdefault(fid, []).append(tid)
                    continue
                self._pool.submit(self._execute, tid, self.functions[fid], payload, serializers)
                out.setdefault(fid, []).append(tid)
        return 200, {
            "request_id": str(uuid.uuid4()),
            "task_group_id": str(uuid.uuid4()),
            "endpoint_id": endpoint_id,
            "tasks": out,
        }

    def _execute(self, tid: str, function: Any, payload: str, serializers: list[str]) -> None:
        if self.latency:
            time.sleep(self.latency)
        args_s, kwargs_s = self.serde.unpack_buffers(payload)
        try:
            result = function(*self.serde.deserialize(args_s), **self.serde.deserialize(kwargs_s))
            packed = _result_serde(serializers).serialize(result)
            doc = {"status": "success", "result": self.answer(result) if self.answer else packed}
        except Exception:
            doc = {"status": "failed", "exception": traceback.format_exc()}
        with self._lock:
            self.tasks[tid] = {"task_id": tid, "completion_t": str(time.time()), **doc}

    def _container_of(self, config: dict[str, Any]) -> str | None:
        kind = config.get("container_type")
        if self.container_run is None or kind not in ("docker", "podman"):
            return None
        return str(config["container_uri"])

    def _in_container(self, tid: str, image: str, job: dict[str, Any]) -> None:
        assert self.container_run is not None
        cmd = [*self.container_run, image, "python", "-c", CONTAINER_WORKER]
        done = subprocess.run(cmd, input=json.dumps(job), capture_output=True, text=True)
        try:
            doc = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            doc = {"status": "failed", "exception": f"the container said: {done.stderr[-2000:]}"}
        with self._lock:
            self.containers_ran.append(image)
            self.tasks[tid] = {"task_id": tid, "completion_t": str(time.time()), **doc}

    def batch_status(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            results = {t: dict(self.tasks[t]) for t in body["task_ids"] if t in self.tasks}
        return 200, {"response": "batch", "results": results}

    # -- HTTP -----------------------------------------------------------------------------
    def _route(
        self, method: str, path: str, body: Any, auth: str | None
    ) -> tuple[int, dict[str, Any]]:
        bearer = (auth or "").removeprefix("Bearer ")
        if bearer != self.token and not (self.token_ok and bearer and self.token_ok(bearer)):
            return 401, _error("UNAUTHORIZED", "invalid or missing token")
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["v3", "functions"]:
            return self.register_function(body)
        if (
            method == "GET"
            and len(parts) == 4
            and parts[:2] == ["v2", "endpoints"]
            and parts[3] == "status"
        ):
            return self.status(parts[2])
        if (
            method == "POST"
            and len(parts) == 4
            and parts[:2] == ["v3", "endpoints"]
            and parts[3] == "submit"
        ):
            return self.submit(parts[2], body)
        if method == "POST" and parts == ["v2", "batch_status"]:
            return self.batch_status(body)
        return 404, _error("NOT_FOUND", f"no route {method} {path}")

    def route(self, method: str, path: str, query: str, body: Any, headers: Any) -> Reply:
        status, doc = self._route(method, path, body, headers.get("Authorization"))
        return status, doc, {}


# What runs inside a task's container: the endpoint worker's part, with the image's own
# globus-compute-sdk: unpack the function and arguments, call, pack the result with the
# submission's result serializer; one JSON line out.
CONTAINER_WORKER = """
import importlib, json, sys, traceback
from globus_compute_sdk import serialize
job = json.load(sys.stdin)
serde = serialize.ComputeSerializer()
try:
    fn = serde.deserialize(job["function"])
    args, kwargs = serde.unpack_buffers(job["payload"])
    result = fn(*serde.deserialize(args), **serde.deserialize(kwargs))
    name = job["serializer"].rpartition(".")[2]
    strategy = getattr(serialize, name)() if name else None
    packed = serialize.ComputeSerializer(strategy_data=strategy).serialize(result)
    out = {"status": "success", "result": packed}
except Exception:
    out = {"status": "failed", "exception": traceback.format_exc()}
print(json.dumps(out))
"""


def _error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "reason": message}


def _result_serde(paths: list[str]) -> Any:
    """The serializer an endpoint packs results with: the first of the submission's
    ``result_serializers`` (globus-compute-sdk strategies only), else the default."""
    from globus_compute_sdk import serialize

    for path in paths:
        module, _, name = path.rpartition(".")
        strategy = (
            getattr(serialize, name, None) if module.startswith("globus_compute_sdk") else None
        )
        if strategy is not None:
            return serialize.ComputeSerializer(strategy_data=strategy())
    return serialize.ComputeSerializer()


def pickled_touch(marker: Path) -> Callable[[Any], str]:
    """An endpoint's answer that, when unpickled, creates ``marker`` (any code could
    run there instead)."""
    from globus_compute_sdk.serialize import ComputeSerializer, DillDataBase64

    class Touch:
        def __reduce__(self) -> tuple[Any, ...]:
            return (open, (str(marker), "w"))  # the payload names builtins.open, not Touch

    payload = ComputeSerializer(strategy_data=DillDataBase64()).serialize(Touch())
    return lambda result: payload
