"""The CLI drives a whole run in a real shell: crawl -> xtract -> offload, watch,
retry (only what failed) and clear; and the progress bar in a terminal."""

from __future__ import annotations

import json
import os
import pty
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests.corpus import write_good, write_hostile
from tests.support import Service, all_documents, make_tree


def shell(service: Service, command: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**service.full_env(), "XTRACT_URL": service.url}
    xtract = f"{shlex.quote(sys.executable)} -m xtract_service.cli"
    script = command.replace("XTRACT", xtract)
    return subprocess.run(
        ["bash", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_crawl_xtract_offload_watch_retry_in_a_shell(service: Service, tree_dir: Path) -> None:
    write_good(tree_dir / "good")
    write_hostile(tree_dir / "hostile")
    for p in [tree_dir, *tree_dir.iterdir()]:
        os.chmod(p, 0o755)
    out = tree_dir / "exports"
    run = shell(
        service,
        f"""
        set -e
        ID_OF='import json,sys; print(json.load(sys.stdin)["crawl_id"])'
        CID=$(XTRACT crawl {tree_dir} --wait --json | python3 -c "$ID_OF")
        XTRACT xtract $CID --wait > /dev/null
        XTRACT offload $CID --dest-path {out} --format jsonl -p max_items=4 --partitions 2 \
            > /dev/null
        XTRACT status $CID --json
    """,
    )
    assert run.returncode == 0, run.stderr
    status = json.loads(run.stdout)
    cid, files = status["crawl_id"], status["data"]["files_crawled"]
    assert status["xtract"]["xtract_status"] == "COMPLETED"
    assert status["xtract"]["xtract_counters"]["fx"]["success"] == files
    (folder,) = out.iterdir()
    lines = [
        json.loads(line)
        for p in (folder / cid).glob("part-*.jsonl")
        for line in p.read_text().splitlines()
    ]
    assert len(lines) == len({line["path"] for line in lines}) == files
    names = {p.name for p in (folder / cid).glob("part-*.jsonl")}
    assert {n[:8] for n in names} <= {"part-00-", "part-01-"}  # two shares (by results entry)
    assert json.loads((folder / cid / "manifest.json").read_text())["partitions"] == 2
    assert all(len(p.read_text().splitlines()) <= 4 for p in (folder / cid).glob("part-*"))
    bad = shell(service, f"XTRACT offload {cid} --format jsonl -p max_items=many")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "max_items" in bad.stderr, bad.stderr

    watched = shell(service, f"XTRACT watch {cid} --until xtract.completed --json")
    kinds = [json.loads(line)["type"] for line in watched.stdout.splitlines()]
    assert kinds[0] == "crawl.started" and kinds[-1] == "xtract.completed"
    assert kinds.count("family.extracted") == files

    xtr = service.client()
    with_errors = {d["family_id"] for d in all_documents(xtr, cid) if d["errors"]}
    assert with_errors
    retried = shell(service, f"XTRACT retry {cid} --errors --json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["retried"] == len(with_errors)
    docs = all_documents(xtr, cid)
    assert len(docs) == len({d["family_id"] for d in docs}) == files  # no family twice
    again = shell(service, f"XTRACT retry {cid} --json")
    assert json.loads(again.stdout)["retried"] == 0  # nothing failed outright

    cleared = shell(service, f"XTRACT clear {cid} --extractor tabular --json")
    n_tabular = json.loads(cleared.stdout)["cleared"]
    assert n_tabular == sum(1 for d in docs if "tabular" in d["extractors"])
    rerun = shell(service, f"XTRACT retry {cid} --json")
    assert json.loads(rerun.stdout)["retried"] == n_tabular
    final = xtr.get_xtract_status(cid)
    assert final["xtract_status"] == "COMPLETED"
    assert final["xtract_counters"]["fx"]["success"] == files


def test_cli_usage_errors_exit_2_and_run_failures_exit_1(service: Service) -> None:
    assert shell(service, "XTRACT xtract").returncode == 2
    assert shell(service, "XTRACT watch --bogus x").returncode == 2
    missing = shell(service, "XTRACT retry 00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 1 and missing.stderr.startswith("xtract: no crawl")
    for c in (
        "serve",
        "worker",
        "crawl",
        "status",
        "ls",
        "flush",
        "xtract",
        "offload",
        "watch",
        "cancel",
        "retry",
        "clear",
        "extractors",
        "token",
        "extract-file",
        "run",
        "index",
        "query",
    ):
        assert shell(service, f"XTRACT {c} --help").returncode == 0, c


def test_progress_bar_in_a_terminal_ends_with_the_totals(service: Service, tree_dir: Path) -> None:
    tree = make_tree(tree_dir, 500)
    env = {**service.full_env(), "XTRACT_URL": service.url}
    pid, fd = pty.fork()
    if pid == 0:  # the child: xtract in a pseudo-terminal
        os.execve(
            sys.executable,
            [sys.executable, "-m", "xtract_service.cli", "crawl", str(tree_dir), "--wait"],
            env,
        )
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    screen = b"".join(chunks).decode(errors="replace")
    assert "\r" in screen  # redrawn in place
    bar = [seg for seg in screen.replace("\r\n", "\n").split("\r") if "files/s" in seg]
    assert bar[-1].strip().splitlines()[0].startswith(f"complete: {len(tree):,} files")
    summary = [line for line in screen.splitlines() if line.startswith("  found ")]
    assert summary and summary[-1].strip().startswith(f"found {len(tree):,} files (")
