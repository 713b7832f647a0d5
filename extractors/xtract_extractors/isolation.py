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
import re
import resource
import shutil
import tempfile
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from .errors import error_kind
from .registry import ParamError, get, resolve
from .safepath import Roots, UnsafePath

Call = tuple[str, list[str], "dict[str, Any] | None"]  # extractor, paths, params

DEFAULT_TIME_LIMIT = 60.0
DEFAULT_MEMORY_LIMIT = 2 << 30  # bytes of address space
MAX_CALLS = 5000  # calls a child serves before a fresh one takes over


_RECORD_KEYS = frozenset({"extractor", "error", "message"})
# what a call may open when its caller names no roots: anything this user can read, but
# only regular files (a FIFO or a device is refused, never opened for reading)
ANYWHERE = Roots(["/"], follow_links=True)


def error_record(extractor: str, error: str, message: str) -> dict[str, Any]:
    return {"extractor": extractor, "error": error, "message": message}


def is_error_record(result: dict[str, Any]) -> bool:
    """Whether a result is an error record rather than metadata."""
    return _RECORD_KEYS <= result.keys() <= _RECORD_KEYS | {"seconds"}


class _Opened:
    """A call's files, opened safely (see :mod:`.safepath`) and shown to the extractor
    under their own names: ``WORKDIR/<i>/<name>`` is a link to ``/proc/self/fd/N``, the
    very file that was checked, so a swap on disk after the check changes nothing and
    the extractor still sees the file's name and extension."""

    def __init__(self, workdir: str, slots: set[int]) -> None:
        self.workdir = workdir
        self.slots = slots  # WORKDIR/<i> folders this process has made already
        self.fds: list[int] = []
        self.links: dict[str, str] = {}  # link -> the path the caller named

    def open(self, paths: list[str], roots: Roots) -> list[str]:
        shown = []
        for i, path in enumerate(paths):
            fd = roots.open_file(path)
            self.fds.append(fd)
            folder = os.path.join(self.workdir, str(i))
            if i not in self.slots:
                os.mkdir(folder, 0o700)
                self.slots.add(i)
            link = os.path.join(folder, os.path.basename(path) or "file")
            os.symlink(f"{_FD_DIR}/{fd}", link)  # close() removes it after the call
            self.links[link] = path
            shown.append(link)
        return shown

    def named(self, value: Any) -> Any:
        """``value`` with every link replaced by the path the caller named."""
        if not self.links or self.workdir not in repr(value):
            return value  # the usual case: nothing to rewrite, checked in C
        return self._rewrite(value)

    def _rewrite(self, value: Any) -> Any:
        if isinstance(value, str):
            for link, path in self.links.items():
                value = value.replace(link, path)
            return value
        if isinstance(value, dict):
            return {self._rewrite(k): self._rewrite(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._rewrite(v) for v in value)
        return value

    def close(self) -> None:
        for link in self.links:
            with contextlib.suppress(OSError):
                os.unlink(link)
        for fd in self.fds:
            os.close(fd)


_FD_DIR = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"


_OUT_OF_SPACE = re.compile(r"failed to map segment|cannot allocate memory", re.IGNORECASE)


def _call(
    name: str, ref: str, paths: list[str], params: Any, roots: Roots, workdir: str, slots: set[int]
) -> Any:
    files = _Opened(workdir, slots)
    try:
        shown = files.open(paths, roots)
        return files.named(("ok", resolve(name, ref).run(shown, params)))
    except UnsafePath as exc:
        return ("error", "unsafe_path", str(exc))
    except MemoryError:
        return ("error", "memory_limit", "the extractor ran out of its memory limit")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit and the like from a parser end one call only
        if isinstance(exc, ImportError) and _OUT_OF_SPACE.search(str(exc)):
            # a shared library that could not be mapped: the address space is full
            return ("error", "memory_limit", f"the extractor ran out of its memory limit ({exc})")
        return files.named(("error", error_kind(exc), _message(exc)))
    finally:
        files.close()


def _child(conn: Connection, memory_limit: int | None) -> None:
    # parsers log their complaints; the result's error record or warnings carry them
    logging.getLogger().setLevel(logging.ERROR)
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    workdir = tempfile.mkdtemp(prefix="xtract-call-")  # 0700, this process's own
    try:
        _serve(conn, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _serve(conn: Connection, workdir: str) -> None:
    slots: set[int] = set()
    while True:
        try:
            calls = conn.recv()
        except EOFError:
            return
        if calls is None:
            return
        for name, ref, paths, params, roots in calls:  # one answer per call, as each ends
            started = time.monotonic()
            reply = _call(name, ref, paths, params, roots, workdir, slots)
            seconds = round(time.monotonic() - started, 6)
            try:
                conn.send((*reply, seconds))
            except Exception as exc:  # the result would not pickle
                conn.send(("error", "bad_result", f"the result could not be sent: {exc}", seconds))


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if error_kind(exc) in ("extractor_failed", "invalid_content", "unreadable_content"):
        text = f"{type(exc).__name__}: {text}"  # the kind is broad: the class says more
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
        max_calls: int = MAX_CALLS,
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
        self,
        name: str,
        paths: list[str],
        params: dict[str, Any] | None = None,
        roots: Roots | None = None,
    ) -> dict[str, Any]:
        """The extractor's metadata, or an error record; never raises for a bad file.
        Unknown extractors and bad parameters raise before anything runs. Files are
        opened only inside ``roots`` (default: anywhere, regular files only)."""
        return self.run_many([(name, paths, params)], roots)[0][0]

    def run_many(
        self, calls: list[Call], roots: Roots | None = None
    ) -> list[tuple[dict[str, Any], float]]:
        """Run many calls in one round trip: ``[(metadata or error record, seconds)]``.

        The child answers each call as it finishes; the time limit applies to each call.
        After a timeout, a crash or a memory blow-up the child is replaced and the calls
        not yet answered are sent again. A call whose process died is tried once more
        (the process may have been killed from outside), then recorded as crashed; one
        that ran out of memory in a process that had served other calls (whose libraries
        fill its address space) is tried once more in a fresh process.
        """
        prepared = []
        for name, paths, params in calls:
            extractor = get(name)
            extractor.validate(params)  # ParamError here, in the caller, naming it
            prepared.append((name, extractor.ref, paths, params, roots or ANYWHERE))
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
                error = outcome[0].get("error")
                if error == "memory_limit" and self._calls > 0 and i not in retried:
                    # a process that served other calls carries their libraries in its
                    # address space: the call is tried once more in a fresh process
                    retried.add(i)  # (the answer killed the process already)
                    break
                results[i] = outcome
                self._calls += 1
                i += 1
                if error in ("timeout", "memory_limit"):
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
