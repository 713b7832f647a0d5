"""The staged executor: wraps the executor a run extracts on, stages each batch's files
here first (:mod:`xtract_service.globus.staging`), extracts the staged copies (each
file shown to the extractors under its own name, the documents naming the original
Globus paths), and deletes them whatever happened. A file that could not be staged gets
an error record (extractor ``staging``) naming why."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from xtract_service.crawl.families import Family
from xtract_service.extraction.executors.base import BatchExecutor
from xtract_service.globus.staging import Stager

STAGING_EXTRACTOR = "staging"


def _files(families: list[Family]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    for fam in families:
        for rec in fam["files"]:
            seen.setdefault(rec["path"], int(rec.get("size") or 0))
    return list(seen.items())


def with_staging_errors(docs: list[dict[str, Any]], failed: Mapping[str, str]) -> None:
    """Files that were never staged: their metadata is an error record saying why."""
    if not failed:
        return
    for doc in docs:
        missing = [p for p in doc["metadata"] if p in failed]
        if not missing:
            continue
        for path in missing:
            doc["metadata"][path] = {}
        doc["errors"] = [e for e in doc["errors"] if e.get("path") not in failed] + [
            {
                "path": p,
                "extractor": STAGING_EXTRACTOR,
                "error": "stage_failed",
                "message": failed[p],
            }
            for p in missing
        ]
        doc["unknown"] = [p for p in doc["unknown"] if p not in failed]
        doc["extractors"][STAGING_EXTRACTOR] = {
            "state": "failed",
            "files": len(missing),
            "seconds": 0.0,
            "errors": len(missing),
        }


class StagedExecutor(BatchExecutor):
    """Wraps the executor a run extracts on: stages each batch, extracts the staged
    copies, deletes them."""

    name = "staged"
    shared = False

    def __init__(self, inner: BatchExecutor, stager: Stager, owns_inner: bool) -> None:
        self.inner, self.stager, self.owns_inner = inner, stager, owns_inner
        self.in_process = inner.in_process
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="xtract-stage")

    def batch_key(self, family: Family) -> str | None:
        return self.inner.batch_key(family)

    def submit_batch(self, key: str | None, families: list[Family], **options: Any) -> Future[Any]:
        out: Future[Any] = Future()

        def run() -> None:
            staged = self.stager.stage(_files(families))

            def done(inner: Future[Any]) -> None:
                try:
                    docs = inner.result()
                    with_staging_errors(docs, staged.failed)
                    out.set_result(docs)
                except BaseException as exc:
                    out.set_exception(exc)
                finally:
                    shutil.rmtree(staged.folder, ignore_errors=True)

            try:
                opts = {
                    **options,
                    "roots": [staged.folder],
                    "follow_links": False,
                    "opened_as": staged.opened_as,
                }
                self.inner.submit_batch(key, families, **opts).add_done_callback(done)
            except BaseException:
                shutil.rmtree(staged.folder, ignore_errors=True)
                raise

        def start() -> None:
            try:
                run()
            except BaseException as exc:
                out.set_exception(exc)

        self.pool.submit(start)
        return out

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)
        if self.owns_inner:
            self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)
