"""Worker processes: the ``xtract worker`` entry point, and the supervisor with which
``xtract serve`` keeps the API process and a few workers running.

``xtract serve`` itself is the supervisor: it holds the listening socket, the embedded
redis-server and nothing a caller sends. The API runs in a child process (role
``api``) serving on that socket, so a dead API process is replaced within about a
second and connections made meanwhile wait in the socket's backlog instead of being
refused. Every child exits when the supervisor is gone."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import redis

from xtract_service.logs import configure
from xtract_service.redis_client import connect
from xtract_service.redis_server import EmbeddedRedis
from xtract_service.settings import Settings
from xtract_service.streams import Loop, consumer_name

log = logging.getLogger(__name__)


# each worker role, and what it runs (one loop per process)
ROLES = ("crawl", "orchestrator", "offload", "webhooks", "retention", "indexer")
API = "api"  # the API process (``python -m xtract_service.app``, on the supervisor's socket)


def make_worker(role: str, r: redis.Redis, settings: Settings) -> Loop:
    """The loop of ``role``; imports only what the role needs (a crawl worker starts in
    a fraction of the time)."""
    name = consumer_name(role)
    if role == "orchestrator":
        from xtract_service.extraction.orchestrator import Orchestrator

        return Orchestrator(r, settings)
    if role == "offload":
        from xtract_service.offload.worker import OffloadWorker

        return OffloadWorker(r, settings)
    if role == "webhooks":
        from xtract_service.webhooks import Notifier

        return Notifier(
            r,
            name,
            settings.vault(),
            allow=settings.webhook_allow,
            claim_idle=settings.claim_idle_seconds,
            timeout=settings.webhook_timeout,
            tries=settings.webhook_tries,
        )
    if role == "indexer":
        from xtract_service.extraction.index import Indexer

        return Indexer(r, settings)
    if role == "retention":
        from xtract_service.retention import Sweeper

        return Sweeper(r, name, settings)
    from xtract_service.crawl.worker import CrawlWorker

    return CrawlWorker(r, settings)


# roles whose work nobody waits on run at a lower CPU priority, so on a busy machine they
# take what crawls and extractions leave: the index catches up on an extraction's
# documents once the extraction leaves the cores (it was 3% of the CPU an extraction of
# Debian's docs saw, in the extraction's wall time)
BACKGROUND = frozenset({"indexer", "retention"})
BACKGROUND_NICENESS = 10


def run_worker(settings: Settings, parent_pid: int | None = None, role: str = "crawl") -> None:
    """Run one worker of ``role`` until SIGTERM/SIGINT (or until the parent service
    dies)."""
    if not settings.redis_url:
        raise SystemExit("a worker needs XTRACT_REDIS_URL (the service's Redis)")
    if role in BACKGROUND:
        os.nice(BACKGROUND_NICENESS)
    r = connect(settings.redis_url, name=f"xtract-{role}-{os.getpid()}")
    worker = make_worker(role, r, settings)

    def _stop(signum: int, frame: object) -> None:
        worker.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("%s worker %s started", role, worker.name)
    worker.run(parent_pid=parent_pid)


def exit_with(parent_pid: int | None, stop: Callable[[], None]) -> None:
    """Call ``stop`` once the process ``parent_pid`` is gone (checked every second)."""

    def watch() -> None:
        while parent_pid is not None and os.getppid() == parent_pid:
            time.sleep(1.0)
        stop()

    if parent_pid is not None:
        threading.Thread(target=watch, name="xtract-parent-watch", daemon=True).start()


def listen(host: str, port: int) -> socket.socket:
    """The service's listening socket, made once by the supervisor and handed to each
    API process it starts."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    deadline = time.monotonic() + 5  # the API process of a killed service may still be going
    while True:
        try:
            sock.bind(address)
            break
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                sock.close()
                raise
            time.sleep(0.1)
    sock.listen(2048)
    return sock


def service_roles(settings: Settings) -> list[str]:
    """The roles ``xtract serve`` supervises, one entry per process."""
    return (
        ["crawl"] * settings.crawl_workers
        + ["orchestrator"] * settings.orchestrators
        + ["offload"] * settings.offloaders
        + ["webhooks", "indexer"]
        + (["retention"] if settings.retention_days > 0 else [])
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m xtract_service.processes ROLE --parent-pid PID``: how the supervisor
    starts a role (no CLI in between)."""
    parser = argparse.ArgumentParser(prog="python -m xtract_service.processes")
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    settings = Settings()
    configure(settings.home, args.role)
    run_worker(settings, parent_pid=args.parent_pid, role=args.role)


class Supervisor:
    """Keeps processes alive (``roles`` lists one role per process, :data:`API` among
    them when ``listening`` is the API's socket); restarts any that dies, and the
    embedded redis-server if it dies."""

    def __init__(
        self,
        roles: list[str],
        redis_url: str,
        embedded: EmbeddedRedis | None = None,
        listening: socket.socket | None = None,
    ) -> None:
        self.roles = roles
        self.embedded = embedded  # the private redis-server, started again if it dies
        self.listening = listening
        self.env = {**os.environ, "XTRACT_REDIS_URL": redis_url}
        self.redis_url = redis_url
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="xtract-supervisor", daemon=True)

    def _spawn(self, role: str) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", __name__, role, "--parent-pid", str(os.getpid())]
        if role == API:
            assert self.listening is not None, "the API role needs the listening socket"
            fd = self.listening.fileno()
            cmd = [sys.executable, "-m", "xtract_service.app", "--parent-pid", str(os.getpid())]
            cmd += ["--fd", str(fd)]
            return subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL, pass_fds=(fd,))
        return subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL)

    def start(self) -> None:
        from xtract_service.upgrade import upgrade

        r = connect(self.redis_url)
        try:  # an older version's keys renamed before any role reads them
            upgrade(r)
        finally:
            r.close()
        self.procs = [self._spawn(role) for role in self.roles]
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            if self.embedded is not None and not self.embedded.alive():
                log.warning("the embedded redis-server died; starting it again")
                try:
                    self.embedded.start()
                except Exception:  # tried again on the next tick
                    log.exception("the embedded redis-server did not start")
            for i, p in enumerate(self.procs):
                if p.poll() is not None and not self._stop.is_set():
                    role = self.roles[i]
                    log.warning("%s %s exited with %s; starting another", role, p.pid, p.returncode)
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


if __name__ == "__main__":
    main()
