from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Service, roots_env


@pytest.fixture(scope="session")
def data_root() -> Iterator[Path]:
    """A world-readable folder for test trees (pytest's own tmp is 0700, which a worker
    running as another user could not enter)."""
    d = Path(tempfile.mkdtemp(prefix="xtract-data-", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def service(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One real service (uvicorn, embedded Redis, two crawl workers) for the session."""
    svc = Service(tmp_path_factory.mktemp("home"), env=roots_env(data_root)).start()
    yield svc
    svc.stop()


@pytest.fixture
def tree_dir(data_root: Path, request: pytest.FixtureRequest) -> Path:
    d = data_root / request.node.name.replace("[", "_").replace("]", "")
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    os.chmod(d, 0o755)
    return d
