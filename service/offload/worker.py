"""The offload worker: runs offload jobs from the jobs stream, a few at a time, and
delivers webhook notifications. Started by ``xtract serve`` (``XTRACT_OFFLOADERS``) or
as ``xtract worker --role offload``.

A running job keeps its stream entry fresh (``XCLAIM`` to itself) as a heartbeat; the
entry of a job whose worker died goes idle and another worker claims it and resumes
the job from its committed position.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import redis

from xtract_service.crawl import keys
from xtract_service.notify import Notifier
from xtract_service.offload.job import Engine
from xtract_service.settings import Settings

log = logging.getLogger(__name__)


class OffloadWorker:
    def __init__(self, r: redis.Redis, settings: Settings, slots: int = 2) -> None:
        self.r, self.settings, self.slots = r, settings, slots
        self.name = f"offload-{socket.gethostname()}-{os.getpid()}"
        self.stop = threading.Event()
        self.running: dict[str, Future[None]] = {}
        self._last_reclaim = 0.0
        self.notifier = Notifier(
            r, self.name, timeout=settings.webhook_timeout, tries=settings.webhook_tries
        )

    def run(self, parent_pid: int | None = None) -> None:
        try:
            self.r.xgroup_create(keys.OFFLOAD_JOBS, keys.OFFLOAD_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.notifier.start()
        with ThreadPoolExecutor(self.slots, thread_name_prefix="xtract-offload") as pool:
            while not self.stop.is_set():
                if parent_pid is not None and os.getppid() != parent_pid:
                    break
                self.running = {e: f for e, f in self.running.items() if not f.done()}
                free = self.slots - len(self.running)
                if free <= 0:
                    time.sleep(0.2)
                    continue
                try:
                    jobs = self._claim(free) or self._read(free)
                except redis.ConnectionError as exc:
                    log.warning("redis unavailable (%s); retrying", exc)
                    time.sleep(1)
                    continue
                for entry_id, oid in jobs:
                    self.running[entry_id] = pool.submit(self._run, entry_id, oid)
        self.notifier.stop.set()

    def _read(self, count: int) -> list[tuple[str, str]]:
        reply = self.r.xreadgroup(
            keys.OFFLOAD_GROUP, self.name, {keys.OFFLOAD_JOBS: ">"}, count=count, block=500
        )
        return [(e.decode(), f[b"offload_id"].decode()) for _, es in reply or [] for e, f in es]

    def _claim(self, count: int) -> list[tuple[str, str]]:
        now = time.monotonic()
        idle = self.settings.claim_idle_seconds
        if now - self._last_reclaim < min(idle / 2, 5.0):
            return []
        self._last_reclaim = now
        reply = self.r.xautoclaim(
            keys.OFFLOAD_JOBS, keys.OFFLOAD_GROUP, self.name, int(idle * 1000), "0-0", count=count
        )
        return [
            (e.decode(), f[b"offload_id"].decode())
            for e, f in reply[1]
            if f and e.decode() not in self.running
        ]

    def _run(self, entry_id: str, oid: str) -> None:
        def heartbeat() -> None:
            self.r.xclaim(
                keys.OFFLOAD_JOBS, keys.OFFLOAD_GROUP, self.name, 0, [entry_id], justid=True
            )

        try:
            Engine(self.r, self.settings, oid, heartbeat).run()
        except redis.RedisError:
            log.exception("offload %s lost redis; it will be resumed", oid)
            return
        except Exception as exc:  # a bug must fail the job, not leave it hanging
            log.exception("offload %s failed", oid)
            self.r.hset(
                keys.offload(oid),
                mapping={
                    "status": "FAILED",
                    "message": f"internal error: {exc!r}",
                    "finished_at": time.time(),
                },
            )
        self.r.xack(keys.OFFLOAD_JOBS, keys.OFFLOAD_GROUP, entry_id)
