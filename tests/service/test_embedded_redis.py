"""The embedded Redis: started, stopped cleanly, and back with its data after a kill -9."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.support import Service, make_tree, roots_env
from xtract_sdk import XtractEndpoint
from xtract_service.redis_server import EmbeddedRedis


def redis_pid(home: Path) -> int:
    return int((home / "redis" / "redis.pid").read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_service_stops_its_redis_and_workers_on_shutdown(data_root: Path, tmp_path: Path) -> None:
    svc = Service(tmp_path / "home", env=roots_env(data_root)).start()
    assert svc.proc is not None
    pid = redis_pid(svc.home)
    workers = svc.worker_pids()
    assert alive(pid) and len(workers) == 2
    svc.stop()
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught
    assert svc.proc.returncode in (0, -signal.SIGTERM)
    assert not alive(pid)
    assert not any(alive(int(w)) for w in workers)


def test_crawls_survive_a_killed_service_and_redis(
    data_root: Path, tmp_path: Path, tree_dir: Path
) -> None:
    tree = make_tree(tree_dir, 100)
    home = tmp_path / "home"
    svc = Service(home, env=roots_env(data_root)).start()
    xtr = svc.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    first = xtr.flush_crawl_metadata(cid, first_n_files=40)["file_ls"]
    assert svc.proc is not None
    pid = redis_pid(home)
    time.sleep(1.2)  # the append-only file is fsynced every second
    os.kill(pid, signal.SIGKILL)
    svc.proc.kill()
    svc.proc.wait()

    again = Service(home, env=roots_env(data_root), port=svc.port).start()
    try:
        xtr = again.client()
        assert xtr.get_crawl_status(cid)["data"]["files_crawled"] == len(tree)
        rest = xtr.flush_crawl_metadata(cid, first_n_files=1000)
        paths = [f["path"] for f in first + rest["file_ls"]]
        assert sorted(paths) == sorted(tree) and rest["queue_empty"]
    finally:
        again.stop()


def test_a_running_server_left_behind_is_adopted(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path / "redis").start()
    pid = redis_pid(tmp_path)
    second = EmbeddedRedis(tmp_path / "redis").start()  # e.g. after the service was killed
    assert redis_pid(tmp_path) == pid
    second.stop()
    assert not alive(pid)
    first.stop()


def test_redis_socket_is_private(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        assert alive(redis_pid(tmp_path))
        assert (os.stat(tmp_path / "redis" / "redis.sock").st_mode & 0o777) == 0o700
    finally:
        server.stop()
