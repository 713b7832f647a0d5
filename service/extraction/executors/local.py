"""The local executor: batches run on threads of this process, each thread driving its
own extraction process through an :class:`~xtract_extractors.IsolatedRunner` (time and
memory limits; a killed or hung process is replaced; processes are recycled after
``max_calls`` extractor calls)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from xtract_extractors.batch import close_shared_runners


class LocalExecutor(ThreadPoolExecutor):
    def __init__(self, workers: int = 2, **_: Any) -> None:
        super().__init__(max_workers=max(1, workers), thread_name_prefix="xtract-extract")

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        close_shared_runners()
