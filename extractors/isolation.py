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

Call = tuple[str, list[str], "dict[str, Any] | None"]  # extractor, paths, params

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
            calls = conn.recv()
        except EOFError:
            return
        if calls is None:
            return
        for name, ref, paths, params in calls:  # one answer per call, as each finishes
            started = time.monotonic()
            try:
                reply: Any = ("ok", resolve(name, ref).run(paths, params))
            except MemoryError:
                reply = ("error", "memory_limit", "the extractor ran out of its memory limit")
            except Exception as exc:
                reply = ("error", type(exc).__name__, _message(exc))
            seconds = round(time.monotonic() - started, 6)
            try:
                conn.send((*reply, seconds))
            except Exception as exc:  # the result would not pickle
                conn.send(("error", "bad_result", f"the result could not be sent: {exc}", seconds))


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
        if start_method == "forkserver":
            # children fork from a server that has the format libraries loaded already
            self._ctx.set_forkserver_preload([f"{__package__}.preload"])
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
        return self.run_many([(name, paths, params)])[0][0]

    def run_many(self, calls: list[Call]) -> list[tuple[dict[str, Any], float]]:
        """Run many calls in one round trip: ``[(metadata or error record, seconds)]``.

        The child answers each call as it finishes; the time limit applies to each call.
        After a timeout, a crash or a memory blow-up the child is replaced and the calls
        not yet answered are sent again. A call whose process died is tried once more
        (the process may have been killed from outside), then recorded as crashed.
        """
        prepared = []
        for name, paths, params in calls:
            extractor = get(name)
            extractor.validate(params)  # ParamError here, in the caller, naming it
            prepared.append((name, extractor.ref, paths, params))
        results: list[tuple[dict[str, Any], float] | None] = [None] * len(prepared)
        retried: set[int] = set()
        i = 0
        while i < len(prepared):
            conn = self._connection()
            try:
                conn.send(prepared[i:])
            except (BrokenPipeError, OSError):
                self._kill()
                continue
            while i < len(prepared):
                name = prepared[i][0]
                outcome = self._answer(conn, name)
                if outcome is None:  # the process died: try this call once more
                    if i in retried:
                        died = error_record(name, "crashed", "the extractor process died")
                        results[i] = (died, 0.0)
                        i += 1
                    else:
                        retried.add(i)
                    break
                results[i] = outcome
                self._calls += 1
                i += 1
                if outcome[0].get("error") in ("timeout", "memory_limit"):
                    break  # the child was replaced; send the rest again
        return [r for r in results if r is not None]

    def _connection(self) -> Connection:
        if self._conn is not None and self._calls >= self.max_calls:
            self.close()
        return self._conn if self._conn is not None else self._start()

    def _answer(self, conn: Connection, name: str) -> tuple[dict[str, Any], float] | None:
        """The next answer, an error record for a hang or a blow-up, or None if the
        process died."""
        try:
            ready = conn.poll(self.time_limit)
        except (EOFError, OSError):
            ready = False
        if not ready:
            alive = self._proc is not None and self._proc.is_alive()
            self._kill()
            if not alive:
                return None
            record = error_record(name, "timeout", f"no answer within {self.time_limit:g}s")
            return record, self.time_limit
        try:
            status, *rest = conn.recv()
        except (EOFError, OSError):
            self._kill()
            return None
        seconds = float(rest[-1])
        if status == "ok":
            return rest[0], seconds
        if rest[0] == "memory_limit":
            self._kill()  # a process that hit its limit may be in a poor state
        return error_record(name, rest[0], rest[1]), seconds

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
