"""Globus crawls through the real globus_sdk.TransferClient against the loopback
Transfer emulator: paging, injected 5xx and 429 errors, latency, refused folders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.emulators.transfer import TransferEmulator
from tests.support import Service, flush_all, make_tree, roots_env
from xtract_sdk import XtractClient, XtractEndpoint
from xtract_service import keys
from xtract_service.auth.base import LOCAL_OWNER

ENDPOINT = str(uuid.uuid4())
TOKEN = "transfer-token-for-tests"


@pytest.fixture(scope="module")
def globus_root(data_root: Path) -> Path:
    root = data_root / "globus-endpoint"
    root.mkdir()
    return root


@pytest.fixture(scope="module")
def emulator(globus_root: Path) -> Iterator[TransferEmulator]:
    with TransferEmulator(globus_root, ENDPOINT, TOKEN) as emu:
        yield emu


@pytest.fixture(scope="module")
def globus_service(
    emulator: TransferEmulator, data_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    env = {
        **roots_env(data_root),
        "GLOBUS_SDK_SERVICE_URL_TRANSFER": emulator.url,
        "XTRACT_GLOBUS_PAGE_SIZE": "7",
        "XTRACT_GLOBUS_MAX_SLEEP": "0.05",
        # every 5th request fails: with 6 listings in flight, one request's retries can
        # land on failures several times running; 10 tries make that vanishingly rare
        "XTRACT_GLOBUS_MAX_RETRIES": "10",
        "XTRACT_LISTINGS_IN_FLIGHT": "6",
        # the owner's rate is test_globus_rate.py's subject: here it stays out of the way
        "XTRACT_GLOBUS_REQUESTS_PER_SECOND": "1000",
    }
    with Service(tmp_path_factory.mktemp("globus-home"), env=env) as svc:
        yield svc


@pytest.fixture
def emu(emulator: TransferEmulator, globus_service: Service) -> Iterator[TransferEmulator]:
    yield emulator
    emulator.fail_every, emulator.fail_status, emulator.latency = 0, 503, 0.0
    emulator.broken_paths = set()
    # the 429s a test injected slowed the owner's shared bucket down; the next test
    # starts from a fresh one (test_globus_rate.py is about the slowing down)
    redis.Redis.from_url(globus_service.redis_url).delete(keys.globus_rate(LOCAL_OWNER))


def crawl(svc: Service, path: str, token: str = TOKEN) -> tuple[XtractClient, str, dict]:
    xtr = svc.client(tokens={"Transfer": token})
    xep = XtractEndpoint("globus", globus_ep_id=ENDPOINT, dirs=[path])
    ((cid, status),) = xtr.crawl_and_wait(xep, progress=False, timeout=120).items()
    return xtr, cid, status


@pytest.mark.parametrize("fail_status", [503, 429])
def test_globus_crawl_pages_and_retries_and_matches_the_tree(
    globus_service: Service, emu: TransferEmulator, globus_root: Path, fail_status: int
) -> None:
    sub = globus_root / f"run-{fail_status}"
    tree = make_tree(sub, 1500, fanout=3, depth=2)  # 13 folders of ~115 files: many pages of 7
    emu.fail_every, emu.fail_status = 5, fail_status
    before = emu.failures_sent
    xtr, cid, status = crawl(globus_service, f"/run-{fail_status}")
    assert emu.failures_sent > before, "no error was injected"
    assert status["status"] == "complete", status
    assert status["data"]["errors"] == 0
    assert status["data"]["files_crawled"] == len(tree)
    assert status["data"]["bytes_crawled"] == sum(tree.values())
    expected = {"/" + str(Path(p).relative_to(globus_root)): size for p, size in tree.items()}
    files = flush_all(xtr, cid)
    assert {f["path"]: f["size"] for f in files} == expected
    assert len(files) == len(expected)
    assert all(isinstance(f["mtime"], float) for f in files)


def test_several_listings_are_in_flight_at_once(
    globus_service: Service, emu: TransferEmulator, globus_root: Path
) -> None:
    tree = make_tree(globus_root / "slow", 200, fanout=4, depth=2)
    emu.latency = 0.05
    emu.max_in_flight = 0
    _, _, status = crawl(globus_service, "/slow")
    assert status["data"]["files_crawled"] == len(tree)
    assert emu.max_in_flight >= 4


def test_refused_folder_is_reported_and_the_crawl_goes_on(
    globus_service: Service, emu: TransferEmulator, globus_root: Path
) -> None:
    make_tree(globus_root / "part", 100, fanout=2, depth=1)
    emu.broken_paths = {"/part/d1"}
    xtr, cid, status = crawl(globus_service, "/part")
    assert status["status"] == "complete"
    assert status["data"]["errors"] == 1
    err = status["data"]["error_samples"][0]
    assert (
        err["path"] == "/part/d1"
        and "403" in err["error"]
        and "EndpointPermissionDenied" in err["error"]
    )
    assert "could not be read" in status["message"]
    assert not any(f["path"].startswith("/part/d1/") for f in flush_all(xtr, cid))


def test_bad_transfer_token_is_reported(
    globus_service: Service, emu: TransferEmulator, globus_root: Path
) -> None:
    (globus_root / "tok").mkdir(exist_ok=True)
    _, _, status = crawl(globus_service, "/tok", token="wrong")
    # its only folder could not be read: the crawl failed (issue 10), and says why
    assert status["status"] == "failed" and "could be read" in status["message"]
    assert "401" in status["data"]["error_samples"][0]["error"]
