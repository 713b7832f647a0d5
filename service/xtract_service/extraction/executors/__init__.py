"""Executors: where batches of families are extracted. Each is a
:class:`~xtract_service.extraction.executors.base.BatchExecutor`, a
``concurrent.futures.Executor`` whose futures hold metadata documents.

| name | runs batches on |
| --- | --- |
| ``local`` (default) | worker processes on this host, each with time and memory limits |
| ``parsl`` | Parsl's HighThroughputExecutor (``LocalProvider`` here; Slurm/PBS by config) |
| ``globus-compute`` | a Globus Compute (funcX) endpoint, in the registered containers |

Each module imports its heavy library only when an executor is made.
"""

from __future__ import annotations

from xtract_service.errors import Unprocessable
from xtract_service.extraction.executors.base import BatchExecutor, ExecutorSetup
from xtract_service.extraction.executors.globus_compute import GlobusComputeExecutor
from xtract_service.extraction.executors.local import LocalExecutor
from xtract_service.extraction.executors.parsl import ParslExecutor

EXECUTORS: dict[str, type[BatchExecutor]] = {
    cls.name: cls for cls in (LocalExecutor, ParslExecutor, GlobusComputeExecutor)
}


def executor_class(name: str) -> type[BatchExecutor]:
    """The executor called ``name``; Unprocessable names the ones there are."""
    try:
        return EXECUTORS[name]
    except KeyError:
        raise Unprocessable(
            f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}", "bad_executor"
        ) from None


__all__ = [
    "EXECUTORS",
    "BatchExecutor",
    "ExecutorSetup",
    "executor_class",
]
