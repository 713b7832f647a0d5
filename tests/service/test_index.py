"""The metadata index (issue 24): documents appended to Parquet parts as they are
recorded, read by the SDK's DuckDB (`to_duckdb`, `xtract query`) instead of every
document; rebuilt from the documents; a killed indexer loses and doubles nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.service.test_extraction import crawl
from tests.support import Service, all_documents, make_tree


def _indexed(xtr: object, cid: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = xtr.index_status(cid)  # type: ignore[attr-defined]
        if not status["pending"]:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def test_queries_read_the_index_and_agree_with_the_documents(
    service: Service, corpus: Path, tmp_path: Path, monkeypatch: object
) -> None:
    xtr, cid, crawled = crawl(service, corpus)
    (final,) = xtr.xtract_and_wait(progress=False, timeout=240)
    assert final["xtract_status"] == "COMPLETED"
    status = _indexed(xtr, cid)
    docs = all_documents(xtr, cid)
    files = {f["path"] for d in docs for f in d["files"]}
    assert status["rows"] == len(files) == crawled["data"]["files_crawled"]

    os.environ["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the SDK's part cache
    try:
        con = xtr.to_duckdb(cid)
        n, distinct = con.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone()
        assert n == distinct == len(files)
        (rows,) = con.execute(
            "SELECT tabular.rows FROM files WHERE path LIKE '%good/table.csv'"
        ).fetchone()
        assert rows == 100
        cached = list((tmp_path / "cache" / "xtract" / "index").rglob("*.parquet"))
        assert sorted(p.name for p in cached) == sorted(p["name"] for p in status["parts"])

        # `xtract query`, as a user types it
        env = {**os.environ, "XTRACT_URL": xtr.base_url, "XTRACT_TOKEN": xtr.http._token or ""}
        out = subprocess.run(
            [sys.executable, "-m", "xtract_service.cli", "query", cid,
             "SELECT count(*) AS n FROM files"],
            capture_output=True, text=True, env=env, check=True,
        ).stdout  # fmt: skip
        assert out.splitlines() == ["n", str(len(files))]
    finally:
        del os.environ["XDG_CACHE_HOME"]


def test_a_rebuilt_index_holds_the_same_rows(service: Service, corpus: Path) -> None:
    xtr, cid, _ = crawl(service, corpus)
    xtr.xtract_and_wait(progress=False, timeout=240)
    before = _indexed(xtr, cid)
    env = {**os.environ, "XTRACT_URL": xtr.base_url, "XTRACT_TOKEN": xtr.http._token or ""}
    out = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "index", cid, "rebuild"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    assert "rows in" in out
    after = _indexed(xtr, cid)
    assert after["rows"] == before["rows"] > 0
    assert [p["name"] for p in after["parts"]] == ["part-00001.parquet"]
    bad = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "index", cid, "explode"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert bad.returncode == 2 and "unknown action 'explode'" in bad.stderr


def test_a_killed_indexer_loses_and_doubles_nothing(service: Service, tree_dir: Path) -> None:
    make_tree(tree_dir, 1500, fanout=5, depth=2)
    xtr, cid, crawled = crawl(service, tree_dir)
    xtr.xtract(cid, extractors=[])  # filetype only: documents arrive fast
    kills = 0
    deadline = time.monotonic() + 240
    while xtr.get_xtract_status(cid)["xtract_status"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline
        for pid in service.worker_pids("indexer"):
            os.kill(int(pid), signal.SIGKILL)
            kills += 1
        time.sleep(0.3)
    assert kills > 0
    status = _indexed(xtr, cid, timeout=120)
    con = xtr.to_duckdb(cid)
    n, distinct = con.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone()
    assert n == distinct == status["rows"] == crawled["data"]["files_crawled"]


def test_search_reads_the_index_with_exact_counts_and_no_empty_page(
    service: Service, corpus: Path
) -> None:
    import requests

    xtr, cid, crawled = crawl(service, corpus)
    xtr.xtract_and_wait(progress=False, timeout=240)
    _indexed(xtr, cid)
    files = crawled["data"]["files_crawled"]
    url = f"{xtr.base_url}/v1/crawls/{cid}/metadata/search"
    headers = {"Authorization": f"Bearer {xtr.http._token}"}

    def ask(**params: Any) -> dict:
        resp = requests.get(url, params=params, headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    everything = ask(limit=500)
    assert everything["source"] == "index" and everything["complete"] is True
    assert everything["matched"] == everything["searched"] == files
    # in the order the document scan lists them: a search's pages read the same
    # whether the index or the documents answered them
    in_order = [f["path"] for d in all_documents(xtr, cid) for f in d["files"]]
    assert [f["path"] for f in everything["files"]] == in_order
    csv = ask(type="text/csv", extractor="tabular", field="name=temperature")
    assert [f["path"] for f in csv["files"]] == [str(corpus / "good" / "table.csv")]
    assert csv["matched"] == 1 and csv["next"] is None
    assert csv["files"][0]["metadata"]["tabular"]["rows"] == 100
    # pages of 2: every match once, and no page without files
    seen: list[str] = []
    after = None
    while True:
        page = ask(limit=2, **({"after": after} if after else {}))
        assert page["files"], page
        seen += [f["path"] for f in page["files"]]
        after = page["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == files
    bad = requests.get(url, params={"after": "i:x"}, headers=headers, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_cursor"


def test_the_offload_prints_the_folder_its_parts_are_in(
    service: Service, corpus: Path, data_root: Path
) -> None:
    """The README's pattern, as written: `xtract offload ... --format parquet` prints a
    folder, and `'FOLDER/*.parquet'` reads every file's row."""
    import duckdb

    xtr, cid, crawled = crawl(service, corpus)
    xtr.xtract_and_wait(progress=False, timeout=240)
    dest = data_root / "exports" / "printed"
    dest.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "XTRACT_URL": xtr.base_url, "XTRACT_TOKEN": xtr.http._token or ""}
    printed = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "offload", cid, "--dest-path", str(dest),
         "--format", "parquet"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    found = duckdb.connect().execute(f"SELECT count(*) FROM '{printed}/*.parquet'").fetchone()
    assert found is not None and found[0] == crawled["data"]["files_crawled"]


def test_parts_keep_their_names_through_merges(
    service: Service, tree_dir: Path, monkeypatch: Any
) -> None:
    """Appends after a merge never reuse the name of a part the manifest still names
    (each appended part gets the manifest's next number)."""
    import redis

    from xtract_service.extraction import index as idx
    from xtract_service.settings import Settings

    make_tree(tree_dir, 60, fanout=3, depth=1)
    xtr, cid, _ = crawl(service, tree_dir)
    xtr.xtract_and_wait(cid, progress=False, extractors=[], timeout=240)
    _indexed(xtr, cid)
    r = redis.Redis.from_url(service.redis_url)
    settings = Settings(home=service.home)
    index = idx.Index(r, settings, cid)
    with idx.index_lock(r, cid, "test") as taken:
        assert taken
        index.rebuild()
        monkeypatch.setattr(idx, "MERGE_AFTER", 3)
        monkeypatch.setattr(idx, "SMALL_PART", 15)
        sizes = [10, 10, 20, 10, 10]  # the third part large, kept through the merge
        for size in sizes:
            assert index.append(limit=size) > 0
    manifest = idx.read_manifest(settings, cid)
    names = [p["name"] for p in manifest["parts"]]
    assert len(names) == len(set(names)) and any(n.startswith("merged-") for n in names)
    assert manifest["rows"] == sum(p["rows"] for p in manifest["parts"]) == 60
    con = xtr.to_duckdb(cid)
    n, distinct = con.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone()
    assert n == distinct == 60


def test_clearing_the_results_empties_the_index_and_a_new_run_fills_it(
    service: Service, tree_dir: Path
) -> None:
    make_tree(tree_dir, 30, fanout=3, depth=1)
    xtr, cid, _ = crawl(service, tree_dir)
    xtr.xtract_and_wait(cid, progress=False, extractors=[], timeout=240)
    assert _indexed(xtr, cid)["rows"] == 30
    xtr.clear(cid)
    assert _indexed(xtr, cid)["rows"] == 0  # no row outlives the documents it came from
    xtr.xtract_and_wait(cid, progress=False, extractors=[], timeout=240)
    status = _indexed(xtr, cid)
    con = xtr.to_duckdb(cid)
    n, distinct = con.execute("SELECT count(*), count(DISTINCT path) FROM files").fetchone()
    assert status["rows"] == n == distinct == 30
