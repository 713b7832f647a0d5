"""Functions run on a Globus Compute (formerly funcX) endpoint, as futures.

It speaks the Compute REST API through globus-sdk's ``ComputeClientV3``
(``register_function``, ``submit``) and ``ComputeClientV2`` (``get_endpoint_status``,
``get_task_batch``), which honour ``GLOBUS_SDK_SERVICE_URL_COMPUTE``, and packs
functions and arguments with globus-compute-sdk's own serializer.

**Nothing an endpoint sends is unpickled.** The caller chooses the endpoint, so its
answers are untrusted: arguments go as JSON (``JSONData``), every submission asks the
endpoint to serialize results as JSON too (``result_serializers``), and results are
read by ``JSONData`` alone (``json.loads``): a dill, pickle or code payload is refused
before anything is loaded, and so is one larger than
``XTRACT_COMPUTE_MAX_RESULT_BYTES``. What the JSON says is checked by the caller
(the walker's answers by the crawl, documents by the orchestrator). (The SDK's
``Executor`` streams results over AMQP; polling the batch-status route needs nothing
but HTTPS.) A templated endpoint learns its container from ``user_endpoint_config``
``{"container_type", "container_uri"}``, set per submission like the SDK's
``Executor.user_endpoint_config``.

The crawl lists folders with it (:mod:`xtract_service.crawl.repos.compute`) and the
``globus-compute`` executor extracts batches with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import globus_sdk

from xtract_service.globus import clients
from xtract_service.globus.ratelimit import RateLimiter
from xtract_service.settings import Settings

RESULT_SERIALIZER = "globus_compute_sdk.serialize.JSONData"  # what endpoints answer in


class ComputeUnavailable(RuntimeError):
    """The endpoint cannot take work (offline, a submission refused, a task failed)."""


def container_config(uri: str | None) -> dict[str, str] | None:
    """``user_endpoint_config`` naming a container image for a templated endpoint."""
    if not uri:
        return None
    kind = "apptainer" if uri.endswith((".sif", ".simg")) else "docker"
    return {"container_type": kind, "container_uri": uri}


class ComputeTasks(Executor):
    """``submit(fn, *args)`` runs ``fn`` on the endpoint; a thread polls the results."""

    def __init__(
        self,
        endpoint_id: str,
        token: str | None,
        settings: Settings,
        limiter: RateLimiter | None = None,
    ) -> None:
        from globus_compute_sdk.serialize import ComputeSerializer, JSONData

        self.v2, self.v3 = clients.compute(token, settings, limiter)
        self.endpoint_id = endpoint_id
        # arguments go as JSON; results are read by JSONData alone (never by the
        # serializer, whose allow-list must also admit a code strategy: code is exec'd)
        self.json = JSONData()  # type: ignore[no-untyped-call]
        self.serde = ComputeSerializer(strategy_data=self.json)
        self.max_result = settings.compute_max_result_bytes
        self.poll_seconds = settings.compute_poll_seconds
        self.user_endpoint_config: dict[str, Any] | None = None
        self._functions: dict[Callable[..., Any], str] = {}
        self._pending: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="xtract-compute-poll", daemon=True)
        self._poller.start()

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
            raise ComputeUnavailable(
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
            body: dict[str, Any] = {
                "create_queue": False,
                "tasks": {function_id: [payload]},
                "result_serializers": [RESULT_SERIALIZER],
            }
            if self.user_endpoint_config:
                body["user_endpoint_config"] = self.user_endpoint_config
            reply = self.v3.submit(self.endpoint_id, body)
            (task_id,) = reply["tasks"][function_id]
        except globus_sdk.GlobusAPIError as exc:
            refused = f"Globus Compute refused the batch: {clients.refusal(exc)}"
            future.set_exception(ComputeUnavailable(refused))
            return future
        except (ComputeUnavailable, globus_sdk.NetworkError) as exc:
            future.set_exception(ComputeUnavailable(str(exc)))
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
                future.set_result(self._result(task["result"]))
            except Exception as exc:
                future.set_exception(ComputeUnavailable(f"unreadable result: {exc}"))
        else:
            future.set_exception(
                ComputeUnavailable(
                    f"the task failed on the endpoint: {str(task['exception'])[:1000]}"
                )
            )

    def _result(self, payload: Any) -> Any:
        """A task's result, if it is JSON of a bounded size (and nothing else)."""
        if not isinstance(payload, str):
            raise ValueError("the result is not a serialized string")
        if len(payload) > self.max_result:
            raise ValueError(
                f"{len(payload):,} bytes is over XTRACT_COMPUTE_MAX_RESULT_BYTES "
                f"({self.max_result:,})"
            )
        if not payload.startswith(self.json.identifier):
            raise ValueError(
                "the endpoint answered in a serialization other than JSON, which is never "
                "loaded here"
            )
        return self.json.deserialize(payload)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stop.set()
        if cancel_futures:
            with self._lock:
                pending, self._pending = self._pending, {}
            for f in pending.values():
                f.cancel()
