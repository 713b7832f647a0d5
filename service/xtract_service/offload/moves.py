"""Moves: where written metadata goes. Destinations are drivers, declared like export
formats::

    @destination("http_post", "POST each part to a URL")
    @param("url", str, optional=False, desc="where to")
    def post_parts(job: Job, params: dict[str, Any]) -> str: ...

The built-in ones are a local copy into a folder (``local``), a Globus transfer to any
endpoint (``globus``) and an ingest into a Globus Search index (``search``); their
settings are the offload request's own fields (``dest_path``, ``dest_ep_id``,
``index_id``). Another package's destinations load through the ``xtract.exporters``
entry point (as formats do) and take typed ``move_params``. A destination takes the
job being run (a :class:`Job`: the offload engine, its staging folder and committed
parts) and returns where the data now is (a path, a URL, an index id), or raises
OffloadFailed with the reason. It may run again for the same job (its worker died
mid-move), so it must be idempotent, as the built-ins are. Globus clients come from the
Globus room, within the owner's rate bucket."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import globus_sdk
import redis

from xtract_extractors.registry import Param, check_params, declared_params
from xtract_extractors.safepath import (
    Roots,
    copy_file,
    open_in,
    opened,
    read_in,
    remove_partials,
)
from xtract_service import keys
from xtract_service.crawl.changes import changes_page
from xtract_service.globus import clients, tokens
from xtract_service.globus.ratelimit import RateLimiter, owner_bucket
from xtract_service.offload import OffloadFailed
from xtract_service.offload.formats import Part, load_plugins
from xtract_service.offload.store import OffloadStore
from xtract_service.redis_client import replicated
from xtract_service.settings import Settings

if TYPE_CHECKING:
    from xtract_service.offload.start import OffloadRequest


class Job(Protocol):
    """What a move needs of the offload job it moves."""

    r: redis.Redis
    oid: str
    crawl_id: str
    owner: str
    settings: Settings
    spec: OffloadRequest
    store: OffloadStore
    secrets: dict[str, str]
    staging: str

    def open_staging(self) -> int: ...
    def update(self, **fields: Any) -> None: ...
    def destination(self) -> str: ...
    def committed(self) -> list[Part]: ...


Move = Callable[[Job, dict[str, Any]], str]
BUILT_IN = ("local", "globus", "search")  # set by the request's own fields


@dataclass(frozen=True)
class Destination:
    name: str
    move: Move
    description: str
    params: tuple[Param, ...]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": [p.describe() for p in self.params],
        }


DESTINATIONS: dict[str, Destination] = {}


def destination(name: str, description: str = "") -> Callable[[Move], Move]:
    """Register ``fn(job, params) -> where`` as the destination ``name`` (its
    ``@param``s, stacked under this, declare its typed parameters)."""

    def register(fn: Move) -> Move:
        doc = description or (fn.__doc__ or "").strip().split("\n")[0]
        DESTINATIONS[name] = Destination(name, fn, doc, declared_params(fn))
        return fn

    return register


def check_destination(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Validated parameters of the destination ``name``; ValueError says what is wrong."""
    load_plugins()
    if name not in DESTINATIONS:
        raise ValueError(f"unknown destination {name!r}; use one of {', '.join(DESTINATIONS)}")
    if name in BUILT_IN and params:
        raise ValueError(
            f"destination {name!r} takes no move_params: its settings are the request's "
            "dest_path, dest_ep_id and index_id"
        )
    return check_params(f"destination {name!r}", DESTINATIONS[name].params, params)


def describe_destinations() -> list[dict[str, Any]]:
    load_plugins()
    return [d.describe() for d in DESTINATIONS.values()]


def destination_named(name: str) -> Destination:
    """The destination ``name`` (plug-ins loaded); OffloadFailed if it is gone (the
    package that declared it was removed since the offload was asked for)."""
    load_plugins()
    if name not in DESTINATIONS:
        raise OffloadFailed(f"destination {name!r} is not installed on this offload worker")
    return DESTINATIONS[name]


def _bucket(engine: Job) -> RateLimiter:
    return owner_bucket(engine.r, engine.owner, engine.settings)


@destination("local", "A folder on this machine (dest_path; default: the owner's exports).")
def local_copy(engine: Job, params: dict[str, Any] | None = None) -> str:
    """Copy the parts and manifests into ``dest_path/YYYY-MM-DD-hh.mm.ss/CRAWL_ID``
    (folders 0700, files 0600), opened beneath the root the request was checked in."""
    h = engine.store.get(engine.oid)
    dest = h.get("destination") or engine.destination()
    engine.update(destination=dest)
    root = h.get("dest_root") or engine.spec.dest_path
    try:
        with (
            opened(engine.open_staging()) as staging,
            opened(Roots([root]).open_dir(dest, create=True)) as folder,
        ):
            remove_partials(folder)
            for name in sorted(os.listdir(staging)):
                with opened(open_in(staging, name)) as src:
                    copy_file(src, folder, name, sync_folder=False)
            os.fsync(folder)
    except OSError as exc:
        raise OffloadFailed(f"cannot write to {dest}: {exc}") from None
    return dest


@destination("globus", "A Globus transfer to an endpoint (dest_ep_id, dest_path).")
def globus_transfer(engine: Job, params: dict[str, Any] | None = None) -> str:
    """A Globus transfer from this service's collection to ``dest_ep_id``; waits up to
    ``timeout`` seconds and reports the task's final status."""
    s = engine.settings
    h = engine.store.get(engine.oid)
    dest = h.get("destination") or engine.destination()
    engine.update(destination=dest)
    tc = clients.transfer(tokens.pick(engine.secrets, tokens.TRANSFER), s, _bucket(engine))
    task_id = h.get("transfer_task_id")
    if not task_id:  # a resumed job waits on the transfer it already asked for
        root = os.path.realpath(s.globus_collection_root or s.home)
        source = "/" + os.path.relpath(os.path.realpath(engine.staging), root).lstrip("/")
        data = globus_sdk.TransferData(
            source_endpoint=str(s.globus_collection_id),
            destination_endpoint=str(engine.spec.dest_ep_id),
            label=f"xtract offload {engine.oid[:8]}",
            verify_checksum=True,
        )
        data.add_item(source + "/", dest + "/", recursive=True)
        replicated(engine.r, keys.offload_fence(engine.oid))  # the parts' records first
        try:
            task_id = tc.submit_transfer(data)["task_id"]
        except globus_sdk.GlobusAPIError as exc:
            raise OffloadFailed(f"Globus refused the transfer: {clients.refusal(exc)}") from None
        engine.update(transfer_task_id=task_id, transfer_status="ACTIVE")
    deadline = time.monotonic() + engine.spec.timeout
    while True:
        try:
            task = tc.get_task(task_id)
        except globus_sdk.GlobusAPIError as exc:
            raise OffloadFailed(f"cannot read transfer task {task_id}: {exc.message}") from None
        status = str(task["status"])
        engine.update(transfer_status=status)
        if status == "SUCCEEDED":
            return dest
        if status == "FAILED":
            why = task.get("nice_status") or task.get("fatal_error") or "no reason given"
            raise OffloadFailed(f"transfer {task_id} failed: {why}; the source metadata is kept")
        if time.monotonic() > deadline:
            raise OffloadFailed(
                f"transfer {task_id} did not finish within {engine.spec.timeout:g}s "
                f"(it is {status}); the source metadata is kept"
            )
        time.sleep(s.transfer_poll_seconds)


def _ingest(sc: globus_sdk.SearchClient, index: str, doc: Any) -> dict[str, Any]:
    """Send one ingest document; its task, or why Search refused it."""
    try:
        return {"task_id": sc.ingest(index, doc)["task_id"], "state": "PENDING"}
    except globus_sdk.GlobusAPIError as exc:
        return {"task_id": None, "state": "REFUSED", "message": clients.refusal(exc)}


DELETES_PER_REQUEST = 100


def _removed_subjects(engine: Job, prefix: str) -> Iterator[list[str]]:
    """The subjects of the files a ``since=`` crawl found removed, a request's worth at
    a time (none for a crawl without ``since``)."""
    after = ""
    while True:
        page = changes_page(engine.r, engine.crawl_id, "removed", after, DELETES_PER_REQUEST)
        if page["paths"]:
            yield [prefix + p for p in page["paths"]]
        if not page["next"]:
            return
        after = page["next"]


def _delete(sc: globus_sdk.SearchClient, index: str, subjects: list[str]) -> dict[str, Any]:
    """Ask Search to delete these subjects' entries; its task, or why it refused."""
    try:
        found = sc.batch_delete_by_subject(index, subjects)
        return {"task_id": found["task_id"], "state": "PENDING", "deletes": len(subjects)}
    except globus_sdk.GlobusAPIError as exc:
        return {"task_id": None, "state": "REFUSED", "message": clients.refusal(exc)}


@destination("search", "An ingest into a Globus Search index (index_id).")
def search_ingest(engine: Job, params: dict[str, Any] | None = None) -> str:
    """Ingest every GMetaList part into ``index_id``, delete the entries of files a
    ``since=`` crawl found removed, and wait for each of those tasks."""
    s = engine.settings
    sc = clients.search(tokens.pick(engine.secrets, tokens.SEARCH), s, _bucket(engine))
    index = str(engine.spec.index_id)
    raw = engine.store.get(engine.oid).get("search_tasks")
    tasks: dict[str, dict[str, Any]] = json.loads(raw) if raw else {}
    replicated(engine.r, keys.offload_fence(engine.oid))  # the parts' records first
    with opened(engine.open_staging()) as staging:
        for part in engine.committed():
            if part["name"] not in tasks:  # else acknowledged before a restart
                doc = json.loads(read_in(staging, part["name"]))
                tasks[part["name"]] = _ingest(sc, index, doc)
                engine.update(search_tasks=json.dumps(tasks))
    prefix = str(engine.spec.format_params.get("subject_prefix") or "file://")
    for i, subjects in enumerate(_removed_subjects(engine, prefix), 1):
        name = f"delete-{i:05d}"
        if name not in tasks:  # the files a since= crawl found removed leave the index
            tasks[name] = _delete(sc, index, subjects)
            engine.update(search_tasks=json.dumps(tasks))
    deadline = time.monotonic() + engine.spec.timeout
    while any(t["state"] not in ("SUCCESS", "FAILED", "REFUSED") for t in tasks.values()):
        for t in tasks.values():
            if t["state"] == "PENDING" or t["state"] == "PROGRESS":
                task = sc.get_task(t["task_id"])
                t["state"] = str(task["state"])
                if t["state"] == "FAILED":
                    t["message"] = str(task.get("message", ""))
        engine.update(search_tasks=json.dumps(tasks))
        if time.monotonic() > deadline:
            raise OffloadFailed(f"search ingest tasks still pending after {engine.spec.timeout:g}s")
        time.sleep(s.transfer_poll_seconds)
    bad = [t for t in tasks.values() if t["state"] != "SUCCESS"]
    if bad:
        reasons = "; ".join(sorted({str(t.get("message")) for t in bad}))
        raise OffloadFailed(f"{len(bad)} of {len(tasks)} ingest tasks failed: {reasons}")
    return index


__all__ = [
    "DESTINATIONS",
    "check_destination",
    "describe_destinations",
    "destination",
    "destination_named",
    "globus_transfer",
    "local_copy",
    "search_ingest",
]
