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

import importlib.util
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from xtract_service.errors import BadRequest
from xtract_service.extraction.executors.base import BatchExecutor, ExecutorSetup


def _interpreter_bin_on_path() -> None:
    """Parsl's helper scripts live beside this interpreter (a venv's ``bin``)."""
    here = os.path.dirname(sys.executable)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if here not in parts:
        os.environ["PATH"] = os.pathsep.join([here, *[p for p in parts if p]])


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _config_from_file(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("xtract_parsl_config", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load a Parsl config from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.config


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


class ParslExecutor(BatchExecutor):
    name = "parsl"

    def __init__(
        self, workers: int = 2, run_dir: Path | None = None, config_file: Path | None = None
    ) -> None:
        import parsl

        _interpreter_bin_on_path()
        config = (
            _config_from_file(config_file)
            if config_file
            else local_config(workers, run_dir or Path("parsl-runs"))
        )
        self._dfk = parsl.load(config)
        self._app = parsl.python_app(_call, data_flow_kernel=self._dfk)

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
        return cls(setup.workers, setup.run_dir, setup.parsl_config)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = self._app(fn, *args, **kwargs)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        import parsl

        self._dfk.cleanup()
        parsl.clear()
