"""The Parsl executor: batches run as Parsl apps, by default on a
``HighThroughputExecutor`` with a ``LocalProvider`` (workers on this host). On a
cluster, point ``XTRACT_PARSL_CONFIG`` at a Python file that defines ``config``, a
``parsl.config.Config`` with a Slurm or PBS provider.

Parsl starts its interchange and worker pool by script name (``interchange.py``,
``process_worker_pool.py``), from the interpreter's own ``bin`` folder: that folder is
put first on ``PATH`` before Parsl starts, so it works without an activated virtual
environment.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from xtract_extractors.batch import extract_batch
from xtract_service.errors import BadRequest
from xtract_service.extraction.executors.base import BatchExecutor, ExecutorSetup

log = logging.getLogger(__name__)


def _interpreter_bin_on_path() -> None:
    """Parsl's helper scripts live beside this interpreter (a venv's ``bin``)."""
    here = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if here not in parts:
        os.environ["PATH"] = os.pathsep.join([here, *[p for p in parts if p]])


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def local_config(workers: int, run_dir: Path) -> Any:
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    return Config(
        executors=[
            HighThroughputExecutor(
                label="xtract",
                address="127.0.0.1",
                max_workers_per_node=workers,
                provider=LocalProvider(  # type: ignore[no-untyped-call]
                    init_blocks=1, min_blocks=1, max_blocks=1
                ),
            )
        ],
        run_dir=str(run_dir),
        strategy="none",
        usage_tracking=0,
    )


def _isolation(home: Path) -> list[str]:
    """The command prefix that starts the broker in a mount namespace of its own with
    ``home`` covered by an empty tmpfs (as root, or in a user namespace where the kernel
    allows one); ``[]`` where neither works (the broker then runs with an empty
    environment only)."""
    hide = ["sh", "-c", 'mount -t tmpfs -o size=16k,mode=000 xtract-hidden "$0" && exec "$@"']
    for prefix in (
        ["unshare", "--mount", "--propagation", "private"],
        ["unshare", "--user", "--map-current-user", "--mount", "--propagation", "private"],
    ):
        try:
            probe = [*prefix, *hide, str(home), "true"]
            if subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode == 0:
                return [*prefix, *hide, str(home)]
        except (OSError, subprocess.TimeoutExpired):
            continue
    log.warning("the Parsl broker runs without a mount namespace (no unshare here)")
    return []


class ParslExecutor(BatchExecutor):
    """Batches on Parsl, through the broker process (:mod:`.parsl_broker`): this
    process never unpickles what a Parsl worker sends; it reads the broker's JSON
    lines, and the orchestrator checks the documents like any remote answer."""

    name = "parsl"

    def __init__(
        self,
        workers: int = 2,
        run_dir: Path | None = None,
        config_file: Path | None = None,
        home: Path | None = None,
    ) -> None:
        _interpreter_bin_on_path()
        prefix = _isolation(home) if home is not None and home.is_dir() else []
        self._tmp: Path | None = None
        if prefix or run_dir is None:  # the home is hidden from the broker: run elsewhere
            run_dir = self._tmp = Path(tempfile.mkdtemp(prefix="xtract-parsl-"))
        read, write = os.pipe()
        cmd = [
            *prefix,
            sys.executable,
            "-m",
            f"{__package__}.parsl_broker",
            "--answers",
            str(write),
        ]
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(run_dir)}
        # what Parsl and its workers print goes to the service's log folder, not the
        # terminal `xtract serve` runs in (unless -v: xtract_service.logs)
        log = None
        if home is not None and os.environ.get("XTRACT_VERBOSE") != "1":
            (home / "logs").mkdir(mode=0o700, parents=True, exist_ok=True)
            log = open(home / "logs" / "parsl.log", "ab")  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, env=env, pass_fds=(write,), cwd=run_dir, text=True,
                stdout=log, stderr=log,
            )  # fmt: skip
        finally:
            os.close(write)
            if log is not None:
                log.close()  # the broker has its own copy
        self._answers = os.fdopen(read, encoding="utf-8")
        self._pending: dict[int, Future[Any]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._send(
            {
                "config": config_file.read_text() if config_file else None,
                "workers": workers,
                "run_dir": str(run_dir),
            }
        )
        first = self._read()
        if not first or "ready" not in first:
            self._proc.kill()
            self._proc.wait()
            raise RuntimeError((first or {}).get("fatal") or "the Parsl broker did not start")
        self._reader = threading.Thread(target=self._read_answers, daemon=True)
        self._reader.start()

    def _send(self, message: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()

    def _read(self) -> dict[str, Any] | None:
        # imported here, not at the top: the package imports this module, and `python -m`
        # of a module the package had imported already warns on the terminal
        from xtract_service.extraction.executors.parsl_broker import MAX_ANSWER_BYTES

        line = self._answers.readline(MAX_ANSWER_BYTES + 1)
        if not line or len(line) > MAX_ANSWER_BYTES or not line.endswith("\n"):
            return None
        try:
            found = json.loads(line)
        except ValueError:
            return None
        return found if isinstance(found, dict) else None

    def _read_answers(self) -> None:
        while (answer := self._read()) is not None:
            with self._lock:
                future = self._pending.pop(answer.get("id"), None)  # type: ignore[arg-type]
            if future is None:
                continue
            if isinstance(answer.get("error"), str):
                future.set_exception(RuntimeError(f"parsl: {answer['error'][:500]}"))
            else:
                future.set_result(answer.get("documents"))  # checked by the orchestrator
        with self._lock:  # the broker is gone (or spoke out of turn): nothing more comes
            lost, self._pending = self._pending, {}
        for future in lost.values():
            future.set_exception(RuntimeError("the Parsl broker stopped answering"))

    @classmethod
    def check(
        cls, endpoint: str | None, tokens: dict[str, str]
    ) -> tuple[str | None, dict[str, str]]:
        if importlib.util.find_spec("parsl") is None:
            raise BadRequest(
                "the parsl executor needs: pip install 'xtract[parsl]'", "missing_extra"
            )
        return None, {}

    @classmethod
    def create(cls, setup: ExecutorSetup) -> ParslExecutor:
        return cls(setup.workers, setup.run_dir, setup.parsl_config, setup.settings.home)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if fn is not extract_batch or len(args) != 1:
            raise TypeError("the Parsl broker runs extract_batch(families, **options) only")
        future: Future[Any] = Future()
        with self._lock:
            bid = next(self._ids)
            self._pending[bid] = future
        try:
            self._send({"id": bid, "families": args[0], "options": kwargs})
        except (OSError, ValueError) as exc:
            with self._lock:
                self._pending.pop(bid, None)
            future.set_exception(RuntimeError(f"the Parsl broker is gone: {exc}"))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()  # the broker cleans Parsl up and exits
        try:
            self._proc.wait(30 if wait else 1)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
