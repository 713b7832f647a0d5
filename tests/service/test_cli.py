"""The ``xtract`` command in a real shell: the quick start's ``run`` and the crawl commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import Service, make_tree, roots_env


def xtract(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_run_crawls_a_folder_on_the_embedded_default_and_stops(
    tmp_path: Path, tree_dir: Path, data_root: Path
) -> None:
    tree = make_tree(tree_dir, 250)
    env = {**Service(tmp_path / "home").full_env(), **roots_env(data_root)}
    out = xtract("run", str(tree_dir), env=env)
    assert out.returncode == 0, out.stderr
    assert "complete" in out.stdout
    assert "250 files" in out.stdout
    assert "csv" in out.stdout and "by extension" in out.stdout
    # nothing left running: the lock is free and a second run works too
    assert xtract("run", str(tree_dir), "--json", env=env).returncode == 0
    assert len(tree) == 250


def test_crawl_status_ls_and_flush_commands(service: Service, tree_dir: Path) -> None:
    make_tree(tree_dir, 40)
    env = {**service.full_env(), "XTRACT_URL": service.url}
    done = xtract("crawl", str(tree_dir), "--wait", "--json", env=env)
    assert done.returncode == 0, done.stderr
    cid = json.loads(done.stdout)["crawl_id"]
    assert (
        json.loads(xtract("status", cid, "--json", env=env).stdout)["data"]["files_crawled"] == 40
    )
    assert cid in xtract("ls", env=env).stdout
    flushed = json.loads(xtract("flush", cid, "-n", "25", "--json", env=env).stdout)
    assert flushed["num_files"] == 25


def test_cli_errors_are_one_line_with_exit_codes(service: Service) -> None:
    env = {**service.full_env(), "XTRACT_URL": service.url}
    missing = xtract("status", "00000000-0000-0000-0000-000000000000", env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip().startswith("xtract: no crawl")
    assert len(missing.stderr.strip().splitlines()) == 1
    usage = xtract("crawl", "--no-such-option", env=env)
    assert usage.returncode == 2
    down = xtract("ls", env={**env, "XTRACT_URL": "http://127.0.0.1:9"})
    assert down.returncode == 1 and "is `xtract serve` running" in down.stderr


def test_serving_plain_http_beyond_loopback_needs_saying_so(tmp_path: Path) -> None:
    env = {**os.environ, "XTRACT_HOME": str(tmp_path / "home")}
    out = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "serve", "--host", "0.0.0.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "not a loopback address" in out.stderr and "--insecure-http" in out.stderr
    assert not (tmp_path / "home" / "redis").exists()  # nothing was started
