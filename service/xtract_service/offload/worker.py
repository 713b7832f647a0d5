"""The offload worker: runs offload jobs from the jobs stream, a few at a time. Started
by ``xtract serve`` (``XTRACT_OFFLOADERS``) or as ``xtract worker --role offload``.

A running job keeps its stream entry fresh (a heartbeat) so nobody claims it; the entry
of a job whose worker died goes idle and another worker claims it and resumes the job
from its committed position.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

import redis

from xtract_service import keys
from xtract_service.offload.engine import Engine
from xtract_service.offload.store import OffloadStore
from xtract_service.redis_client import Entry
from xtract_service.settings import Settings
from xtract_service.streams import Consumer, consumer_name

log = logging.getLogger(__name__)


class OffloadWorker(Consumer):
    group = keys.OFFLOAD_GROUP

    def __init__(self, r: redis.Redis, settings: Settings, slots: int = 2) -> None:
        super().__init__(r, consumer_name("offload"), settings.claim_idle_seconds)
        self.settings, self.slots = settings, slots
        self.store = OffloadStore(r, settings.vault())
        self.pool = ThreadPoolExecutor(slots, thread_name_prefix="xtract-offload")
        self.running: dict[str, Future[None]] = {}

    def open(self) -> None:
        self.ensure_group(keys.OFFLOAD_JOBS)

    def step(self) -> bool:
        self.running = {e: f for e, f in self.running.items() if not f.done()}
        free = self.slots - len(self.running)
        if free <= 0:
            return False
        jobs = self.claim(keys.OFFLOAD_JOBS, free, held=self.running)
        jobs = jobs or self.read([keys.OFFLOAD_JOBS], free, block_ms=500)
        for job in jobs:
            self.hold(job.stream, job.id)
            self.running[job.id] = self.pool.submit(self._run, job)
        return True

    def pause(self) -> None:
        self.stop.wait(0.2)

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def _run(self, job: Entry) -> None:
        try:
            self._run_job(job)
        finally:
            self.release(job.stream, job.id)

    def _run_job(self, job: Entry) -> None:
        oid = job.fields["offload_id"]
        partition = int(job.fields.get("partition") or 0)
        try:
            Engine(self.r, self.settings, oid, partition).run()  # held: the heartbeat keeps it ours
        except redis.RedisError:
            log.exception("offload %s lost redis; it will be resumed", oid)
            return
        except Exception as exc:  # a bug must fail the job, not leave it hanging
            log.exception("offload %s failed", oid)
            self.store.fail(oid, f"internal error: {exc!r}")
        self.ack(job.stream, job.id)
