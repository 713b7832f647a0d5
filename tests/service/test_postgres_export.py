"""The postgres export driver against a real PostgreSQL (Debian's package, started by
the test as an unprivileged user, on a Unix socket): its table matches the Parquet
export row for row, a re-run upserts (no row doubled), and a password in the DSN is
refused before anything runs."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.service.test_extraction import crawl
from tests.support import Service
from xtract_sdk import BadRequestError

NOBODY = 65534


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    assert found, f"PostgreSQL's {name} is not installed (Debian: apt-get install postgresql)"
    return found


def _as_server_user(cmd: list[str]) -> list[str]:
    """Root may not run PostgreSQL: as root, the server runs as nobody."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    # not under pytest's temporary folders: those are root's alone (0700)
    root = Path(tempfile.mkdtemp(prefix="xtract-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    for p in (root, sock):
        os.chmod(p, 0o777)
    subprocess.run(
        _as_server_user([_bin("initdb"), "-D", str(data), "-U", "xtract", "--auth=trust"]),
        check=True, capture_output=True,
    )  # fmt: skip
    server = subprocess.Popen(
        _as_server_user([_bin("postgres"), "-D", str(data), "-k", str(sock), "-p", "5439",
                         "-c", "listen_addresses="]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    dsn = f"host={sock} port=5439 user=xtract dbname=postgres"
    import psycopg

    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(dsn).close()
            break
        except psycopg.OperationalError:
            assert time.monotonic() < deadline and server.poll() is None, "postgres did not start"
            time.sleep(0.2)
    try:
        yield dsn
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(root, ignore_errors=True)


def test_the_postgres_table_matches_the_parquet_export_row_for_row(
    service: Service, corpus: Path, data_root: Path, postgres: str
) -> None:
    import psycopg

    xtr, cid, crawled = crawl(service, corpus)
    xtr.xtract_and_wait(progress=False, timeout=240)
    dest = data_root / "exports" / "pg"
    dest.mkdir(parents=True, exist_ok=True)
    params = {"dsn": postgres, "table": "lab_files"}
    for _ in range(2):  # a re-run upserts
        xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="postgres",
                             format_params=params)  # fmt: skip
    folder = Path(xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="parquet"))
    exported = [
        r
        for part in sorted((folder / cid).glob("*.parquet"))
        for r in pq.read_table(part).to_pylist()
    ]
    with psycopg.connect(postgres) as con:
        rows = con.execute(
            "SELECT path, size, mimetype, family_id, metadata->'filetype'->>'sha256' FROM lab_files"
        ).fetchall()
    assert len(rows) == len(exported) == crawled["data"]["files_crawled"]
    assert sorted(rows) == sorted(
        (r["path"], r["size"], r["mimetype"], r["family_id"], r["filetype"]["sha256"])
        for r in exported
    )
    with pytest.raises(BadRequestError, match="password"):
        xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="postgres",
                             format_params={"dsn": postgres + " password=hunter2"})  # fmt: skip
