"""The local executor: batches run on threads of this process, each thread driving its
own extraction process through an :class:`~xtract_extractors.IsolatedRunner` (time and
memory limits; a killed or hung process is replaced; processes are recycled after
``max_calls`` extractor calls)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from xtract_extractors.batch import close_shared_runners, warm_shared_runner
from xtract_service.extraction.executors.base import BatchExecutor, ExecutorSetup


class LocalExecutor(ThreadPoolExecutor, BatchExecutor):
    name = "local"
    in_process = True

    def __init__(self, workers: int = 2, warm: tuple[float, int | None, int] | None = None) -> None:
        super().__init__(max_workers=max(1, workers), thread_name_prefix="xtract-extract")
        if warm is not None:
            # start each thread's extraction process now, not when the first batch waits
            for _ in range(max(1, workers)):
                self.submit(warm_shared_runner, *warm)

    @classmethod
    def create(cls, setup: ExecutorSetup) -> LocalExecutor:
        return cls(setup.workers, setup.warm)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        close_shared_runners()
