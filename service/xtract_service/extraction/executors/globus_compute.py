"""The Globus Compute (formerly funcX) executor: batches run on a user's endpoint, in
the container registered for their extractors, through the Globus room's
:class:`~xtract_service.globus.compute.ComputeTasks`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from xtract_extractors.kinds import container_family
from xtract_service.crawl.families import Family
from xtract_service.errors import BadRequest
from xtract_service.extraction.executors.base import BatchExecutor, ExecutorSetup
from xtract_service.globus import tokens
from xtract_service.globus.compute import ComputeTasks, container_config


class GlobusComputeExecutor(BatchExecutor):
    name = "globus-compute"
    shared = False  # each run has its own endpoint and token

    def __init__(self, tasks: ComputeTasks, containers: dict[str, str] | None = None) -> None:
        self.tasks = tasks
        self.containers = dict(containers or {})

    @classmethod
    def check(
        cls, endpoint: str | None, given: dict[str, str]
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
        token = tokens.pick(given, tokens.COMPUTE)
        return endpoint, {tokens.KEPT[tokens.COMPUTE]: token} if token else {}

    @classmethod
    def create(cls, setup: ExecutorSetup) -> GlobusComputeExecutor:
        tasks = ComputeTasks(setup.endpoint_id or "", setup.token, setup.settings, setup.limiter)
        return cls(tasks, setup.containers)

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
        self.tasks.user_endpoint_config = container_config(uri)
        return super().submit_batch(key, families, **options)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.tasks.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.tasks.shutdown(wait, cancel_futures=cancel_futures)
