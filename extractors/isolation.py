"""Running extractors where a bad file cannot hurt: a child process with a time limit
and a memory limit.

:class:`IsolatedRunner` keeps one child process and sends it extractor calls one at a
time. The child sets ``RLIMIT_AS`` on itself; the parent waits at most ``time_limit``
seconds for each answer. A call that hangs gets the child killed, one that runs out of
memory or crashes the interpreter loses the child; either way the caller receives an
error record ``{"extractor", "error", "message"}`` and the next call starts a fresh
child. Children are also recycled after ``max_calls`` calls, so a slow leak in a parser
library cannot grow without bound.

>>> with IsolatedRunner(time_limit=30) as runner:                # doctest: +SKIP
...     runner.run("tabular", ["/data/a.csv"])
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import resource
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from .registry import ParamError, get, resolve

DEFAULT_TIME_LIMIT = 60.0
DEFAULT_MEMORY_LIMIT = 2 << 30  # bytes of address space


_RECORD_KEYS = frozenset({"extractor", "error", "message"})


def error_record(extractor: str, error: str, message: str) -> dict[str, Any]:
    return {"extractor": extractor, "error": error, "message": message}


def is_error_record(result: dict[str, Any]) -> bool:
    """Whether a result is an error record rather than metadata."""
    return _RECORD_KEYS <= result.keys() <= _RECORD_KEYS | {"seconds"}


def _child(conn: Connection, memory_limit: int | None) -> None:
    # parsers log their complaints; the result's error record or warnings carry them
    logging.getLogger().setLevel(logging.ERROR)
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        name, ref, paths, params = request
        try:
            result: Any = ("ok", resolve(name, ref).run(paths, params))
        except MemoryError:
            result = ("error", "memory_limit", "the extractor ran out of its memory limit")
        except Exception as exc:
            result = ("error", type(exc).__name__, _message(exc))
        try:
            conn.send(result)
        except Exception as exc:  # the result would not pickle
            conn.send(("error", "bad_result", f"the result could not be sent: {exc}"))


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, (AssertionError, AttributeError, KeyError, IndexError, TypeError)):
        frame = traceback.extract_tb(exc.__traceback__)[-1:]  # where a bug in a parser sits
        if frame:
            text += f" (at {os.path.basename(frame[0].filename)}:{frame[0].lineno})"
    return text[:2000]


class IsolatedRunner:
    """One child process that runs extractor calls with limits (see the module doc)."""

    def __init__(
        self,
        time_limit: float = DEFAULT_TIME_LIMIT,
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
        max_calls: int = 1000,
        start_method: str = "forkserver",
    ) -> None:
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.max_calls = max_calls
        self._ctx = mp.get_context(start_method)
        self._proc: Any = None
        self._conn: Connection | None = None
        self._calls = 0
        self.restarts = 0

    def __enter__(self) -> IsolatedRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> Connection:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(  # type: ignore[attr-defined]
            target=_child, args=(child, self.memory_limit), daemon=True, name="xtract-extract"
        )
        self._proc.start()
        child.close()
        self._conn, self._calls = parent, 0
        return parent

    def _kill(self, restart: bool = True) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
        if self._proc is not None:
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None
        self.restarts += restart

    def run(
        self, name: str, paths: list[str], params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The extractor's metadata, or an error record; never raises for a bad file.
        Unknown extractors and bad parameters raise before anything runs."""
        extractor = get(name)
        extractor.validate(params)  # ParamError here, in the caller, naming the parameter
        if self._conn is None or self._calls >= self.max_calls:
            if self._conn is not None:
                self.close()
            self._start()
        conn = self._conn
        assert conn is not None
        self._calls += 1
        started = time.monotonic()
        try:
            conn.send((name, extractor.ref, paths, params))
            ready = conn.poll(self.time_limit)
        except (BrokenPipeError, EOFError, OSError):
            ready = False
        if not ready:
            alive = self._proc is not None and self._proc.is_alive()
            self._kill()
            if alive:
                return error_record(name, "timeout", f"no answer within {self.time_limit:g}s")
            return error_record(name, "crashed", "the extractor process died")
        try:
            status, *rest = conn.recv()
        except (EOFError, OSError):
            code = self._proc.exitcode if self._proc is not None else None
            self._kill()
            return error_record(name, "crashed", f"the extractor process died (exit {code})")
        if status == "ok":
            result: dict[str, Any] = rest[0]
            return result
        if rest[0] == "memory_limit":
            self._kill()  # a process that hit its limit may be in a poor state
        record = error_record(name, rest[0], rest[1])
        record["seconds"] = round(time.monotonic() - started, 3)
        return record

    def close(self) -> None:
        """Stop the child process (politely, then firmly)."""
        if self._conn is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send(None)
        if self._proc is not None:
            self._proc.join(2)
        self._kill(restart=False)


__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIME_LIMIT",
    "IsolatedRunner",
    "ParamError",
    "error_record",
    "is_error_record",
]
