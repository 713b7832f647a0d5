"""Staging: extracting a Globus crawl where no Compute endpoint can read its files.

The seed says files on an endpoint with no funcX (Compute) endpoint "must be
transferred to an endpoint with a valid funcX endpoint". Here, a Globus crawl extracted
without ``funcx_ep_id`` runs on the local (or Parsl) executor, and each batch's files
are first staged where that executor runs, by one of two methods:

- ``https``: downloaded from the collection's HTTPS server (``https_server`` of the
  endpoint document, with a token for ``https://auth.globus.org/scopes/<id>/https``)
  into ``XTRACT_HOME/staging/<crawl>/<batch>/``;
- ``transfer``: a Globus transfer into this host's own collection
  (``XTRACT_GLOBUS_COLLECTION_ID``, whose ``/`` is ``XTRACT_GLOBUS_COLLECTION_ROOT``),
  under ``xtract-staging/<crawl>/<batch>/``.

The batch is then extracted from the staged copies (each file shown to the extractors
under its own name), the documents name the original Globus paths, and the staged copies
are deleted whatever happened. A file that could not be staged gets an error record
(extractor ``staging``) naming why; files over ``XTRACT_STAGE_MAX_FILE_BYTES`` are not
fetched at all.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import globus_sdk
import requests
from globus_sdk.transport import RetryConfig

from xtract_extractors.safepath import check_name, opened, write_stream
from xtract_service.crawl.families import Family
from xtract_service.crawl.store import CrawlStore
from xtract_service.errors import BadRequest
from xtract_service.extraction.executors.base import BatchExecutor
from xtract_service.settings import Settings

STAGING_EXTRACTOR = "staging"


def https_scope(collection_id: str) -> str:
    """The scope a token needs to download from a collection over HTTPS."""
    return f"https://auth.globus.org/scopes/{collection_id}/https"


@dataclass
class Staged:
    """One batch's staged files: the folder, where each path's bytes now are, and why
    the others could not be staged."""

    folder: str
    opened_as: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


class Stager(Protocol):
    def stage(self, families: list[Family]) -> Staged: ...


def _files(families: list[Family]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    for fam in families:
        for rec in fam["files"]:
            seen.setdefault(rec["path"], int(rec.get("size") or 0))
    return list(seen.items())


def _new_folder(top: str) -> str:
    os.makedirs(top, mode=0o700, exist_ok=True)
    folder = os.path.join(top, uuid.uuid4().hex)
    os.mkdir(folder, 0o700)
    return folder


def _transfer_client(token: str, settings: Settings) -> globus_sdk.TransferClient:
    return globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer(token),
        app_name="xtract",
        retry_config=RetryConfig(
            max_retries=settings.globus_max_retries, max_sleep=settings.globus_max_sleep
        ),
    )


class HttpsStager:
    """Downloads each file from the collection's HTTPS server."""

    def __init__(self, https_server: str, token: str, top: str, max_bytes: int) -> None:
        self.base = https_server.rstrip("/")
        self.top = top
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def stage(self, families: list[Family]) -> Staged:
        staged = Staged(_new_folder(self.top))
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        with opened(os.open(staged.folder, flags)) as top:
            for i, (path, size) in enumerate(_files(families)):
                if size > self.max_bytes:
                    staged.failed[path] = f"{size} bytes is over the staging limit"
                    continue
                name = posixpath.basename(path)
                try:
                    check_name(name)
                    os.mkdir(str(i), 0o700, dir_fd=top)
                    with (
                        opened(os.open(str(i), flags, dir_fd=top)) as sub,
                        self.session.get(
                            self.base + quote(path), stream=True, timeout=(10, 60)
                        ) as resp,
                    ):
                        if resp.status_code != 200:
                            staged.failed[path] = f"HTTPS download answered {resp.status_code}"
                            continue
                        write_stream(sub, name, resp.iter_content(1 << 20), limit=self.max_bytes)
                    staged.opened_as[path] = os.path.join(staged.folder, str(i), name)
                except requests.RequestException as exc:
                    staged.failed[path] = f"HTTPS download failed ({type(exc).__name__})"
                except OSError as exc:
                    staged.failed[path] = f"cannot stage: {exc.strerror or exc}"
        return staged


class TransferStager:
    """One Globus transfer per batch into this host's collection."""

    def __init__(
        self,
        tc: globus_sdk.TransferClient,
        source: str,
        collection_id: str,
        collection_root: str,
        crawl_id: str,
        poll: float,
        timeout: float,
    ) -> None:
        self.tc, self.source = tc, source
        self.collection_id, self.root = collection_id, os.path.realpath(collection_root)
        self.top = os.path.join(self.root, "xtract-staging", crawl_id)
        self.poll, self.timeout = poll, timeout

    def stage(self, families: list[Family]) -> Staged:
        staged = Staged(_new_folder(self.top))
        files = _files(families)
        dest = "/" + os.path.relpath(staged.folder, self.root)
        data = globus_sdk.TransferData(
            source_endpoint=self.source,
            destination_endpoint=self.collection_id,
            label=f"xtract staging {os.path.basename(staged.folder)[:8]}",
            # a file gone since the crawl is skipped (and reported), not the batch
            skip_source_errors=True,
        )
        for i, (path, _) in enumerate(files):
            data.add_item(path, f"{dest}/{i}/{posixpath.basename(path)}")
        try:
            task_id = self.tc.submit_transfer(data)["task_id"]
            why = self._wait(str(task_id))
        except globus_sdk.GlobusAPIError as exc:
            why = f"Globus refused the staging transfer: {exc.http_status} {exc.code}"
        for i, (path, _) in enumerate(files):
            local = os.path.join(staged.folder, str(i), posixpath.basename(path))
            if why is None and os.path.isfile(local):
                staged.opened_as[path] = local
            else:
                staged.failed[path] = why or "the staging transfer did not deliver the file"
        return staged

    def _wait(self, task_id: str) -> str | None:
        deadline = time.monotonic() + self.timeout
        while True:
            task = self.tc.get_task(task_id)
            if task["status"] == "SUCCEEDED":
                return None
            if task["status"] == "FAILED":
                return f"staging transfer {task_id} failed: {task.get('nice_status') or '?'}"
            if time.monotonic() > deadline:
                return f"staging transfer {task_id} did not finish in {self.timeout:g}s"
            time.sleep(self.poll)


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
            staged = self.stager.stage(families)

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


# -- at the start of a run, and in the orchestrator ---------------------------------------
def staging_scopes(
    crawls: CrawlStore, crawl_id: str, owner: str, funcx_ep_id: str | None
) -> dict[str, str]:
    """The extra tokens (by name, their scopes) a run needs to stage the crawl's files:
    an HTTPS token for a Globus crawl extracted without a Compute endpoint."""
    spec = json.loads(crawls.get(crawl_id, owner)["spec"])
    if spec.get("repo_type") != "globus" or funcx_ep_id or spec.get("funcx_ep_id"):
        return {}
    return {"HTTPS": https_scope(str(spec["globus_ep_id"]))}


def plan_staging(
    spec: dict[str, Any], tokens: dict[str, str], settings: Settings
) -> tuple[dict[str, Any], dict[str, str]]:
    """How a Globus crawl's files will be staged, and the tokens that takes; a
    BadRequest that says what is missing when they cannot be."""
    endpoint = str(spec.get("globus_ep_id"))
    transfer = tokens.get("Transfer") or tokens.get("transfer")
    https = tokens.get("HTTPS")
    if https and transfer:
        try:
            doc = _transfer_client(transfer, settings).get_endpoint(endpoint)
        except globus_sdk.GlobusAPIError as exc:
            raise BadRequest(
                f"cannot read endpoint {endpoint} to stage its files: {exc.http_status} {exc.code}",
                "staging",
            ) from None
        except globus_sdk.NetworkError:
            raise BadRequest(
                "Globus Transfer cannot be reached to stage files", "staging"
            ) from None
        server = doc.get("https_server")
        if server:
            plan = {"method": "https", "endpoint_id": endpoint, "https_server": str(server)}
            return plan, {"https_token": https}
    if transfer and settings.globus_collection_id and settings.globus_collection_root:
        return {"method": "transfer", "endpoint_id": endpoint}, {"transfer_token": transfer}
    raise BadRequest(
        f"a Globus crawl with no Compute endpoint is extracted by staging its files here, "
        f"which needs either an HTTPS token for collection {endpoint} "
        f"(tokens={{'HTTPS': ...}}, scope {https_scope(endpoint)}) and a Transfer token, or "
        "a Transfer token and this host's collection (XTRACT_GLOBUS_COLLECTION_ID and "
        "XTRACT_GLOBUS_COLLECTION_ROOT); or give funcx_ep_id",
        "staging",
    )


def staged_executor(
    inner: BatchExecutor,
    owns_inner: bool,
    crawl_id: str,
    plan: dict[str, Any],
    secrets: dict[str, str],
    settings: Settings,
) -> StagedExecutor:
    """The run's executor, staging by ``plan`` (from :func:`plan_staging`)."""
    stager: Stager
    if plan["method"] == "https":
        top = os.path.join(os.path.realpath(settings.home), "staging", crawl_id)
        stager = HttpsStager(
            plan["https_server"], secrets["https_token"], top, settings.stage_max_file_bytes
        )
    else:
        stager = TransferStager(
            _transfer_client(secrets["transfer_token"], settings),
            plan["endpoint_id"],
            str(settings.globus_collection_id),
            str(settings.globus_collection_root),
            crawl_id,
            settings.transfer_poll_seconds,
            settings.stage_timeout,
        )
    return StagedExecutor(inner, stager, owns_inner)
