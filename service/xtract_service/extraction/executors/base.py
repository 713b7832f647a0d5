"""The one interface every executor offers the service.

An executor is a ``concurrent.futures.Executor`` that also knows how to check a request
for it, how to be made from a run's options, and how to cut families into batches. The
orchestrator and the start of a run talk only to this interface, never to an executor by
name.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from xtract_extractors.batch import extract_batch
from xtract_service.crawl.families import Family
from xtract_service.globus.ratelimit import RateLimiter
from xtract_service.settings import Settings


class BatchExecutor(Executor):
    """Runs ``extract_batch`` on batches of families somewhere; futures of documents.

    ``shared`` executors serve every run of a process (one pool, one Parsl DFK);
    others are made per run (each Globus Compute run has its own endpoint and token).
    """

    name: ClassVar[str]
    shared: ClassVar[bool] = True
    in_process: bool = False  # batches run on threads of this process (the local pool)

    @classmethod
    def check(
        cls, endpoint: str | None, tokens: dict[str, str]
    ) -> tuple[str | None, dict[str, str]]:
        """Before a run starts: the endpoint it will use and the secrets it must keep;
        :class:`~xtract_service.errors.BadRequest` when this executor cannot serve it."""
        return None, {}

    @classmethod
    def create(cls, setup: ExecutorSetup) -> BatchExecutor:
        raise NotImplementedError

    def batch_key(self, family: Family) -> str | None:
        """Families with different keys never share a batch (``None``: any may)."""
        return None

    def submit_batch(self, key: str | None, families: list[Family], **options: Any) -> Future[Any]:
        """Extract one batch (all of whose families have ``key``)."""
        return self.submit(extract_batch, families, **options)


@dataclass(frozen=True)
class ExecutorSetup:
    """What an executor is made from: the service's settings and, for a run, its
    endpoint, token, the owner's Globus rate bucket and registered container images."""

    settings: Settings
    workers: int
    run_dir: Path
    parsl_config: Path | None = None
    warm: tuple[float, int | None, int] | None = None  # time, memory limits, max calls
    limiter: RateLimiter | None = None
    endpoint_id: str | None = None
    token: str | None = None
    containers: dict[str, str] = field(default_factory=dict)
