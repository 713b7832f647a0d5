"""Staging: copying a Globus collection's files to this host, so an executor that runs
here can read them. Two ways:

- :class:`HttpsStager` downloads each file from the collection's HTTPS server
  (``https_server`` of the endpoint document, with a token for
  ``https://auth.globus.org/scopes/<id>/https``) into a folder of its own;
- :class:`TransferStager` asks for one Globus transfer per batch into this host's own
  collection (``XTRACT_GLOBUS_COLLECTION_ID``, whose ``/`` is
  ``XTRACT_GLOBUS_COLLECTION_ROOT``), under ``xtract-staging/<crawl>/<batch>/``.

Each returns a :class:`Staged`: where each path's bytes now are, and why the others
could not be staged. Files over the size limit are not fetched at all. When and how a run
stages is :mod:`xtract_service.extraction.staging`'s decision.
"""

from __future__ import annotations

import os
import posixpath
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import globus_sdk
import requests

from xtract_extractors.safepath import check_name, opened, write_stream


@dataclass
class Staged:
    """One batch's staged files: the folder, where each path's bytes now are, and why
    the others could not be staged."""

    folder: str
    opened_as: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


class Stager(Protocol):
    def stage(self, files: list[tuple[str, int]]) -> Staged: ...


def _new_folder(top: str) -> str:
    os.makedirs(top, mode=0o700, exist_ok=True)
    folder = os.path.join(top, uuid.uuid4().hex)
    os.mkdir(folder, 0o700)
    return folder


class HttpsStager:
    """Downloads each file from the collection's HTTPS server."""

    def __init__(self, https_server: str, token: str, top: str, max_bytes: int) -> None:
        self.base = https_server.rstrip("/")
        self.top = top
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def stage(self, files: list[tuple[str, int]]) -> Staged:
        staged = Staged(_new_folder(self.top))
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        with opened(os.open(staged.folder, flags)) as top:
            for i, (path, size) in enumerate(files):
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

    def stage(self, files: list[tuple[str, int]]) -> Staged:
        staged = Staged(_new_folder(self.top))
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
