"""Executors: where batches of families are extracted. All are
``concurrent.futures.Executor`` subclasses: ``submit(extract_batch, families, **options)``
returns a future of metadata documents.

| name | runs batches on |
| --- | --- |
| ``local`` (default) | worker processes on this host, each with time and memory limits |
| ``parsl`` | Parsl's HighThroughputExecutor (``LocalProvider`` here; Slurm/PBS by config) |
| ``globus-compute`` | a Globus Compute (funcX) endpoint, in the registered containers |
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

EXECUTORS = ("local", "parsl", "globus-compute")


class ExecutorUnavailable(RuntimeError):
    """An executor cannot take work (an endpoint offline, a submission refused)."""


def make_executor(name: str, **options: Any) -> Executor:
    """The executor called ``name``; imports only what that executor needs."""
    if name == "local":
        from xtract_service.extraction.executors.local import LocalExecutor

        return LocalExecutor(**options)
    if name == "parsl":
        from xtract_service.extraction.executors.parsl import ParslExecutor

        return ParslExecutor(**options)
    if name == "globus-compute":
        from xtract_service.extraction.executors.globus_compute import GlobusComputeExecutor

        return GlobusComputeExecutor(**options)
    raise ValueError(f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")
