"""The API as several processes on one socket (issue 26, item 1): `xtract serve
--api-workers N` runs N API processes the kernel shares connections between; killing one
loses no request (the others answer meanwhile) and the supervisor starts another."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support import Service, roots_env


class ManyApis(Service):
    @staticmethod
    def command() -> list[str]:
        return [sys.executable, "-m", "xtract_service.cli", "serve", "--api-workers", "3"]


def answered_by(svc: Service, n: int) -> tuple[set[int], int]:
    """The API processes that answered ``n`` fresh connections, and how many failed."""
    pids: set[int] = set()
    failed = 0
    for _ in range(n):
        try:
            with requests.Session() as s:  # a new connection each time
                got = s.get(f"{svc.url}/health", timeout=10)
            got.raise_for_status()
            pids.add(int(got.json()["process"]))
        except requests.RequestException:
            failed += 1
    return pids, failed


def test_several_api_processes_share_the_socket_and_survive_a_kill(
    data_root: Path, tmp_path: Path
) -> None:
    with ManyApis(tmp_path / "home", env=roots_env(data_root)) as svc:
        deadline = time.monotonic() + 60
        while len(pids := svc.worker_pids("api")) < 3:
            assert time.monotonic() < deadline, pids
            time.sleep(0.2)
        assert len(pids) == 3
        seen, failed = answered_by(svc, 200)
        assert failed == 0 and len(seen) >= 2 and seen <= {int(p) for p in pids}, seen
        os.kill(int(pids[0]), signal.SIGKILL)
        seen, failed = answered_by(svc, 100)  # while one is dead and being replaced
        assert failed == 0 and int(pids[0]) not in seen
        while len(again := svc.worker_pids("api")) < 3 or pids[0] in again:
            assert time.monotonic() < deadline + 60, again
            time.sleep(0.2)
        # the CLI and SDK notice nothing: a status call goes through any process
        env = {**svc.full_env(), "XTRACT_URL": svc.url}
        listed = subprocess.run(
            [sys.executable, "-m", "xtract_service.cli", "ls", "--json"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
