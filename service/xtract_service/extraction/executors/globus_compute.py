"""The Globus Compute (formerly funcX) executor: batches run on a user's endpoint, in
the container registered for their extractors.

It speaks the Compute REST API through globus-sdk's ``ComputeClientV3``
(``register_function``, ``submit``) and ``ComputeClientV2`` (``get_endpoint_status``,
``get_task_batch``), which honour ``GLOBUS_SDK_SERVICE_URL_COMPUTE``, and packs
functions, arguments and results with globus-compute-sdk's own serializer. (The SDK's
``Executor`` streams results over AMQP; polling the batch-status route needs nothing
but HTTPS.) The container reaches a templated endpoint as ``user_endpoint_config``
``{"container_type", "container_uri"}``, set per submission like the SDK's
``Executor.user_endpoint_config``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import globus_sdk

from xtract_extractors.kinds import container_family
from xtract_service.crawl.families import Family
from xtract_service.errors import BadRequest
from xtract_service.extraction.executors.base import (
    BatchExecutor,
    ExecutorSetup,
    ExecutorUnavailable,
)

TOKEN_NAMES = ("Compute", "FuncX", "funcx")  # what callers name the Compute token


def container_config(uri: str | None) -> dict[str, str] | None:
    """``user_endpoint_config`` naming a container image for a templated endpoint."""
    if not uri:
        return None
    kind = "apptainer" if uri.endswith((".sif", ".simg")) else "docker"
    return {"container_type": kind, "container_uri": uri}


class GlobusComputeExecutor(BatchExecutor):
    name = "globus-compute"
    shared = False  # each run has its own endpoint and token

    def __init__(
        self,
        endpoint_id: str,
        token: str | None = None,
        poll_seconds: float = 1.0,
        containers: dict[str, str] | None = None,
    ) -> None:
        from globus_compute_sdk.serialize import ComputeSerializer

        auth = globus_sdk.AccessTokenAuthorizer(token) if token else None
        self.v2 = globus_sdk.ComputeClientV2(authorizer=auth, app_name="xtract")
        self.v3 = globus_sdk.ComputeClientV3(authorizer=auth, app_name="xtract")
        self.endpoint_id = endpoint_id
        self.serde = ComputeSerializer()
        self.poll_seconds = poll_seconds
        self.user_endpoint_config: dict[str, Any] | None = None
        self.containers = dict(containers or {})
        self._functions: dict[Callable[..., Any], str] = {}
        self._pending: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="xtract-compute-poll", daemon=True)
        self._poller.start()

    @classmethod
    def check(
        cls, endpoint: str | None, tokens: dict[str, str]
    ) -> tuple[str | None, dict[str, str]]:
        if not endpoint:
            raise BadRequest(
                "the globus-compute executor needs funcx_ep_id (on the endpoint or here)",
                "no_endpoint",
            )
        try:
            endpoint = str(uuid.UUID(endpoint))
        except ValueError:
            raise BadRequest(f"{endpoint!r} is not an endpoint UUID", "bad_endpoint") from None
        token = next((tokens[k] for k in TOKEN_NAMES if k in tokens), None)
        return endpoint, {"compute_token": token} if token else {}

    @classmethod
    def create(cls, setup: ExecutorSetup) -> GlobusComputeExecutor:
        return cls(setup.endpoint_id or "", setup.token, setup.poll_seconds, setup.containers)

    def batch_key(self, family: Family) -> str | None:
        """The container family of the family's first group that names one: a batch
        runs in one container."""
        for group in family.get("groups", []):
            fam = container_family(group.get("extractor"))
            if fam:
                return fam
        return None

    def submit_batch(self, key: str | None, families: list[Family], **options: Any) -> Future[Any]:
        uri = self.containers.get(key or "") or self.containers.get("default")
        self.user_endpoint_config = container_config(uri)
        return super().submit_batch(key, families, **options)

    # -- Compute calls ------------------------------------------------------------------
    def register_function(self, fn: Callable[..., Any]) -> str:
        """Register ``fn`` with the Compute service once; returns its function id."""
        from globus_compute_sdk.sdk.client import FunctionRegistrationData

        if fn not in self._functions:
            data = FunctionRegistrationData(function=fn, serializer=self.serde).to_dict()  # type: ignore[no-untyped-call]
            self._functions[fn] = str(self.v3.register_function(data)["function_uuid"])
        return self._functions[fn]

    def check_online(self) -> None:
        status = self.v2.get_endpoint_status(self.endpoint_id)
        if str(status.get("status", "")).lower() != "online":
            raise ExecutorUnavailable(
                f"Globus Compute endpoint {self.endpoint_id} is {status.get('status', 'unknown')}"
            )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            self.check_online()
            function_id = self.register_function(fn)
            payload = self.serde.pack_buffers(
                [self.serde.serialize(args), self.serde.serialize(kwargs)]
            )
            body: dict[str, Any] = {"create_queue": False, "tasks": {function_id: [payload]}}
            if self.user_endpoint_config:
                body["user_endpoint_config"] = self.user_endpoint_config
            reply = self.v3.submit(self.endpoint_id, body)
            (task_id,) = reply["tasks"][function_id]
        except globus_sdk.GlobusAPIError as exc:
            future.set_exception(
                ExecutorUnavailable(
                    f"Globus Compute refused the batch: {exc.http_status} {exc.code}: {exc.message}"
                )
            )
            return future
        except (ExecutorUnavailable, globus_sdk.NetworkError) as exc:
            future.set_exception(ExecutorUnavailable(str(exc)))
            return future
        with self._lock:
            self._pending[str(task_id)] = future
        return future

    # -- results --------------------------------------------------------------------------
    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            with self._lock:
                ids = list(self._pending)
            if not ids:
                continue
            try:
                results = self.v2.get_task_batch(ids)["results"]
            except (globus_sdk.GlobusAPIError, globus_sdk.NetworkError):
                continue  # a transient failure: ask again on the next tick
            for task_id, task in results.items():
                self._settle(task_id, task)

    def _settle(self, task_id: str, task: dict[str, Any]) -> None:
        if "result" not in task and "exception" not in task:
            return  # still waiting
        with self._lock:
            future = self._pending.pop(task_id, None)
        if future is None:
            return
        if "result" in task:
            try:
                future.set_result(self.serde.deserialize(task["result"]))
            except Exception as exc:
                future.set_exception(ExecutorUnavailable(f"unreadable result: {exc}"))
        else:
            future.set_exception(
                ExecutorUnavailable(
                    f"the task failed on the endpoint: {str(task['exception'])[:1000]}"
                )
            )

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stop.set()
        if cancel_futures:
            with self._lock:
                pending, self._pending = self._pending, {}
            for f in pending.values():
                f.cancel()
