"""Worker processes: the ``xtract worker`` entry point and the supervisor with which
``xtract serve`` keeps a few of them running beside the API."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from xtract_service.redis_client import connect
from xtract_service.settings import Settings

log = logging.getLogger(__name__)


ROLES = ("crawl", "orchestrator", "offload")


def run_worker(settings: Settings, parent_pid: int | None = None, role: str = "crawl") -> None:
    """Run one crawl worker or orchestrator until SIGTERM/SIGINT (or until the parent
    service dies)."""
    if not settings.redis_url:
        raise SystemExit("a worker needs XTRACT_REDIS_URL (the service's Redis)")
    r = connect(settings.redis_url, name=f"xtract-{role}-{os.getpid()}")
    worker: Any
    # import only what the role needs: a crawl worker starts in a fraction of the time
    if role == "orchestrator":
        from xtract_service.extraction.orchestrator import Orchestrator

        worker = Orchestrator(r, settings)
    elif role == "offload":
        from xtract_service.offload.worker import OffloadWorker

        worker = OffloadWorker(r, settings)
    else:
        from xtract_service.crawl.worker import CrawlWorker

        worker = CrawlWorker(r, settings)

    def _stop(signum: int, frame: object) -> None:
        worker.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("%s worker %s started", role, worker.name)
    worker.run(parent_pid=parent_pid)


class Supervisor:
    """Keeps worker processes alive (``roles`` lists one role per process); restarts any
    that dies."""

    def __init__(self, roles: list[str], redis_url: str) -> None:
        self.roles = roles
        self.env = {**os.environ, "XTRACT_REDIS_URL": redis_url}
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="xtract-supervisor", daemon=True)

    def _spawn(self, role: str) -> subprocess.Popen[bytes]:
        cmd = [
            sys.executable,
            "-m",
            "xtract_service.cli",
            "worker",
            "--role",
            role,
            "--parent-pid",
            str(os.getpid()),
        ]
        return subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL)

    def start(self) -> None:
        self.procs = [self._spawn(role) for role in self.roles]
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            for i, p in enumerate(self.procs):
                if p.poll() is not None and not self._stop.is_set():
                    log.warning("worker %s exited with %s; starting another", p.pid, p.returncode)
                    self.procs[i] = self._spawn(self.roles[i])

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
