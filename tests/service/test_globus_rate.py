"""Globus crawls within the owner's rate: every worker takes from one shared bucket, so
a crawl below Globus's limit is never refused, and one above it is slowed down by the
429s it gets (the whole crawl, not one listing) and still finds every file. The real
globus_sdk.TransferClient against the loopback Transfer emulator, which enforces a
per-token limit the way Globus does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators.transfer import TransferEmulator
from tests.support import Service, make_tree, roots_env
from xtract_sdk import XtractEndpoint

ENDPOINT = str(uuid.uuid4())
TOKEN = "transfer-token-for-rate-tests"


@pytest.fixture(scope="module")
def emulator(data_root: Path) -> Iterator[TransferEmulator]:
    root = data_root / "rate-endpoint"
    root.mkdir()
    with TransferEmulator(root, ENDPOINT, TOKEN) as emu:
        yield emu


@pytest.fixture(scope="module")
def service(
    emulator: TransferEmulator, data_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    env = {
        **roots_env(data_root),
        "GLOBUS_SDK_SERVICE_URL_TRANSFER": emulator.url,
        "XTRACT_GLOBUS_PAGE_SIZE": "5",
        "XTRACT_GLOBUS_REQUESTS_PER_SECOND": "8",
        "XTRACT_GLOBUS_MAX_RETRIES": "20",
        "XTRACT_LISTINGS_IN_FLIGHT": "8",
    }
    with Service(tmp_path_factory.mktemp("rate-home"), env=env) as svc:
        yield svc


def crawl(svc: Service, emu: TransferEmulator, name: str) -> tuple[dict, dict[str, int]]:
    tree = make_tree(emu.root / name, 60, fanout=4, depth=1)  # 5 folders, 12 pages of 5
    xtr = svc.client(tokens={"Transfer": TOKEN})
    xep = XtractEndpoint("globus", globus_ep_id=ENDPOINT, dirs=[f"/{name}"])
    ((_, status),) = xtr.crawl_and_wait(xep, progress=False, timeout=120).items()
    return status, tree


def test_a_crawl_within_the_limit_is_never_refused(
    service: Service, emulator: TransferEmulator
) -> None:
    emulator.rate_limit = 10  # Globus allows 10 a second; the service asks at most 8
    before = emulator.rate_limited_sent
    status, tree = crawl(service, emulator, "within")
    assert status["status"] == "complete" and status["data"]["errors"] == 0
    assert status["data"]["files_crawled"] == len(tree)
    assert emulator.rate_limited_sent == before


def test_429s_slow_the_whole_crawl_down_and_lose_nothing(
    service: Service, emulator: TransferEmulator
) -> None:
    emulator.rate_limit = 3  # below the service's 8: its first burst is refused
    before_refused, before_requests = emulator.rate_limited_sent, emulator.requests
    try:
        status, tree = crawl(service, emulator, "above")
    finally:
        emulator.rate_limit = 0
    refused = emulator.rate_limited_sent - before_refused
    asked = emulator.requests - before_requests
    assert status["status"] == "complete" and status["data"]["errors"] == 0
    assert status["data"]["files_crawled"] == len(tree)
    assert refused > 0, "the limit was never reached"
    # every worker paused on the first refusals: far fewer refused than granted (a
    # crawler retrying each listing on its own keeps hitting the limit)
    assert refused < (asked - refused), (refused, asked)
