"""Offload: a real extracted corpus exported in every format and read back with the
format's own reader; filters and transforms; Globus Transfer and Search through the
real globus-sdk clients against loopback emulators; bad requests; webhooks."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import requests

from tests.corpus import write_good
from tests.emulators.search import SearchEmulator
from tests.emulators.transfer import TransferEmulator
from tests.support import Service, roots_env
from xtract_sdk import BadRequestError, XtractClient, XtractEndpoint, XtractError

SOURCE = str(uuid.uuid4())  # the service's own Globus collection
DEST = str(uuid.uuid4())  # a user's endpoint
INDEX, OTHER_INDEX = str(uuid.uuid4()), str(uuid.uuid4())
TOKEN = "globus-token-for-tests"


@pytest.fixture(scope="module")
def env(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("offload-home")
    dest_root = tmp_path_factory.mktemp("endpoint")
    with (
        TransferEmulator(home, SOURCE, TOKEN) as transfer,
        SearchEmulator([INDEX], TOKEN) as search,
    ):
        transfer.roots[DEST] = dest_root
        svc_env = {
            **roots_env(data_root),
            "GLOBUS_SDK_SERVICE_URL_TRANSFER": transfer.url,
            "GLOBUS_SDK_SERVICE_URL_SEARCH": search.url,
            "XTRACT_GLOBUS_COLLECTION_ID": SOURCE,
            "XTRACT_GLOBUS_COLLECTION_ROOT": str(home),
            "XTRACT_TRANSFER_POLL_SECONDS": "0.2",
            "XTRACT_GLOBUS_MAX_SLEEP": "0.05",
            "XTRACT_WEBHOOK_ALLOW": '["127.0.0.1"]',  # the test's receivers are on loopback
        }
        svc = Service(home, env=svc_env).start()
        try:
            yield {"service": svc, "transfer": transfer, "search": search, "dest_root": dest_root}
        finally:
            svc.stop()


@pytest.fixture(scope="module")
def extracted(env: dict[str, Any], corpus: Path) -> tuple[XtractClient, str, set[str]]:
    xtr = env["service"].client(tokens={"Transfer": TOKEN, "Search": TOKEN})
    xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(corpus)]), progress=False)
    (status,) = xtr.xtract_and_wait(progress=False, timeout=300)
    assert status["xtract_status"] == "COMPLETED"
    return xtr, xtr.crawl_ids[0], {str(p) for p in corpus.rglob("*") if p.is_file()}


@pytest.fixture
def dest(data_root: Path, request: pytest.FixtureRequest) -> Path:
    """A destination inside the allowed roots."""
    d = data_root / "exports" / request.node.name.replace("[", "_").replace("]", "")
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def checked_parts(folder: Path) -> list[Path]:
    """The parts a manifest lists, after checking every checksum."""
    manifest = json.loads((folder / "manifest.json").read_text())
    lines = (folder / "MANIFEST.sha256").read_text().splitlines()
    assert len(lines) == len(manifest["parts"])
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    return [folder / p["name"] for p in manifest["parts"]]


def offload(xtr: XtractClient, cid: str, dest: Path, fmt: str, **kw: Any) -> Path:
    path = xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format=fmt, **kw)
    return Path(path) / cid


def read_items(folder: Path, fmt: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for part in checked_parts(folder):
        if fmt == "jsonl":
            raw = gzip.decompress(part.read_bytes()) if part.suffix == ".gz" else part.read_bytes()
            items += [json.loads(line) for line in raw.decode().splitlines()]
        elif fmt == "parquet":
            items += pq.read_table(part).to_pylist()
        elif fmt == "globus_search":
            doc = json.loads(part.read_text())
            assert doc["ingest_type"] == "GMetaList"
            items += [g["content"] for g in doc["ingest_data"]["gmeta"]]
        else:
            items += json.loads(part.read_text())["files"]
    return items


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("jsonl", {}),
        ("jsonl", {"gzip": True, "max_items": 7}),
        ("parquet", {"max_items": 10}),
        ("globus_search", {"max_items": 9}),
        ("family_json", {}),
    ],
)
def test_every_format_reads_back_with_every_file_once(
    extracted: tuple, dest: Path, fmt: str, params: dict
) -> None:
    xtr, cid, files = extracted
    folder = offload(xtr, cid, dest, fmt, format_params=params)
    assert folder.parent.name.count("-") == 3 and folder.parent.name.count(".") == 2
    items = read_items(folder, fmt)
    paths = [i["path"] for i in items]
    assert len(paths) == len(set(paths)) == len(files)
    assert set(paths) == files
    table = next(i for i in items if i["path"].endswith("good/table.csv"))
    if fmt == "parquet":  # typed: a struct per extractor, leftovers as JSON text
        assert table["tabular"]["rows"] == 100
        assert json.loads(table["metadata_json"])["tabular"]["column_profiles"]
        assert table["mtime"].tzinfo is not None
    else:
        assert table["metadata"]["tabular"]["rows"] == 100
    if params.get("max_items"):
        assert len(checked_parts(folder)) > 1


def test_filters_and_transforms(extracted: tuple, dest: Path) -> None:
    xtr, cid, _files = extracted
    folder = offload(
        xtr,
        cid,
        dest,
        "jsonl",
        filters=[
            {"field": "extension", "op": "in", "value": ["csv", "tsv"]},
            {"field": "path", "op": "regex", "value": "garbage", "action": "drop"},
        ],
        transform={
            "drop": ["metadata.filetype", "errors"],
            "rename": {"size": "bytes"},
            "max_field_bytes": 300,
        },
    )
    items = read_items(folder, "jsonl")
    assert sorted(Path(i["path"]).name for i in items) == ["empty.csv", "preamble.tsv", "table.csv"]
    for i in items:
        assert "errors" not in i and "size" not in i and "bytes" in i
        assert "filetype" not in i["metadata"]
    profiles = next(i for i in items if i["path"].endswith("table.csv"))["metadata"]["tabular"]
    assert profiles["column_profiles"]["truncated"] is True  # capped, structure kept above it


def test_bad_offload_requests_are_refused(env: dict, extracted: tuple, dest: Path) -> None:
    svc = env["service"]
    _xtr, cid, _ = extracted
    url = f"{svc.url}/v1/crawls/{cid}/offload"
    auth = {"Authorization": f"Bearer {svc.token}"}

    def post(body: dict, target: str = url) -> tuple[int, str]:
        r = requests.post(target, json=body, headers=auth, timeout=10)
        return r.status_code, r.json().get("error", {}).get("message", "")

    code, msg = post({"dest_path": "/etc"})
    assert code == 400 and "outside the allowed roots" in msg
    code, msg = post({"format": "xlsx"})
    assert code == 400 and "unknown format 'xlsx'" in msg
    code, msg = post({"format": "jsonl", "format_params": {"zip": True}})
    assert code == 400 and "has no parameter 'zip'" in msg
    code, msg = post({"filters": [{"field": "colour", "value": 1}]})
    assert code == 400 and "unknown field 'colour'" in msg
    code, msg = post({"dest_ep_id": "not-a-uuid"})
    assert code == 400 and "dest_ep_id 'not-a-uuid' is not a UUID" in msg
    code, msg = post({"index_id": "nope"}, f"{svc.url}/v1/crawls/{cid}/search")
    assert code == 400 and "index_id 'nope' is not a UUID" in msg
    fresh = svc.client()
    (other,) = fresh.crawl(XtractEndpoint("local", dirs=[str(dest)]))
    with pytest.raises(XtractError, match="run xtract on this crawl first"):
        fresh.offload_metadata(crawl_ids=[other])


def test_globus_transfer_delivers_the_folder(env: dict, extracted: tuple) -> None:
    xtr, cid, files = extracted
    path = xtr.offload_metadata(
        DEST, "/shared/metadata", timeout=60, crawl_ids=[cid], format="jsonl"
    )
    assert path.startswith("/shared/metadata/")
    landed = env["dest_root"] / path.lstrip("/") / cid
    assert {i["path"] for i in read_items(landed, "jsonl")} == files
    (status,) = [s for s in xtr.get_offload_status(cid) if s["destination"].startswith(path)]
    assert status["transfer"]["status"] == "SUCCEEDED" and status["move"] == "globus"


def test_a_failed_transfer_reports_why_and_keeps_the_source(env: dict, extracted: tuple) -> None:
    xtr, cid, _ = extracted
    env["transfer"].fail_transfers = "PERMISSION_DENIED"
    try:
        with pytest.raises(
            XtractError, match="failed: PERMISSION_DENIED; the source metadata is kept"
        ):
            xtr.offload_metadata(DEST, "/denied", crawl_ids=[cid], format="jsonl")
    finally:
        env["transfer"].fail_transfers = None
    (status,) = [s for s in xtr.get_offload_status(cid) if s["status"] == "FAILED"][:1]
    staged = env["service"].home / "offloads" / status["offload_id"] / cid
    assert (staged / "manifest.json").exists()


def test_a_transfer_that_times_out_keeps_the_source(env: dict, extracted: tuple) -> None:
    xtr, cid, _ = extracted
    env["transfer"].transfer_delay = 5
    try:
        with pytest.raises(XtractError, match="did not finish within 1s"):
            xtr.offload_metadata(DEST, "/slow", timeout=1, crawl_ids=[cid], format="jsonl")
    finally:
        env["transfer"].transfer_delay = 0


def test_delete_source_removes_the_staged_copy_after_success(env: dict, extracted: tuple) -> None:
    xtr, cid, _ = extracted
    xtr.offload_metadata(DEST, "/moved", crawl_ids=[cid], format="jsonl", delete_source=True)
    status = xtr.get_offload_status(cid)[0]
    assert status["status"] == "COMPLETED"
    assert not (env["service"].home / "offloads" / status["offload_id"] / cid).exists()


def test_search_ingest_puts_every_file_in_the_index(env: dict, extracted: tuple) -> None:
    xtr, cid, files = extracted
    (status,) = xtr.search_ingest(INDEX, crawl_ids=[cid], visible_to=["urn:globus:groups:id:x"])
    assert status["status"] == "COMPLETED", status
    assert all(t["state"] == "SUCCESS" for t in status["search_tasks"].values())
    entries = env["search"].entries[INDEX]
    assert {e["content"]["path"] for e in entries.values()} >= files
    assert all(e["visible_to"] == ["urn:globus:groups:id:x"] for e in entries.values())


def test_a_partly_failed_ingest_says_which_tasks_failed(env: dict, extracted: tuple) -> None:
    xtr, cid, _ = extracted
    env["search"].refuse_subjects = "laughs.xml"
    try:
        (status,) = xtr.search_ingest(INDEX, crawl_ids=[cid], batch_size=4, visible_to=["public"])
    finally:
        env["search"].refuse_subjects = None
    assert status["status"] == "FAILED"
    states = [t["state"] for t in status["search_tasks"].values()]
    assert states.count("FAILED") == 1 and states.count("SUCCESS") == len(states) - 1 >= 6
    assert f"1 of {len(states)} ingest tasks failed: could not index file://" in status["message"]
    (missing,) = xtr.search_ingest(OTHER_INDEX, crawl_ids=[cid], visible_to=["public"])
    assert missing["status"] == "FAILED" and "404" in missing["message"]


def test_notebook_helpers_iterate_and_make_a_dataframe(extracted: tuple) -> None:
    xtr, cid, files = extracted
    docs = list(xtr.metadata(cid, page=5))
    assert len(docs) == len({d["family_id"] for d in docs}) == len(files)
    df = xtr.to_pandas(cid)  # typed as the Parquet export
    assert len(df) == len(files) and set(df["path"]) == files
    assert {"path", "size", "extension", "mimetype", "errors", "metadata_json"} <= set(df.columns)
    assert str(df["mtime"].dtype).startswith("datetime64") and str(df["size"].dtype) == "int64"
    table = df[df["path"].str.endswith("good/table.csv")].iloc[0]
    assert table["tabular"]["rows"] == 100


class Hook:
    """A webhook receiver on loopback that records what it is sent."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.events.append(body)
                self.send_response(500 if fail else 204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_webhooks_hear_every_stage_and_a_failing_one_fails_nothing(
    env: dict, data_root: Path, dest: Path
) -> None:
    import time

    good, bad = Hook(), Hook(fail=True)
    svc = env["service"]
    root = data_root / "webhook-corpus"
    shutil.rmtree(root, ignore_errors=True)
    write_good(root)
    r = requests.post(
        f"{svc.url}/v1/crawls",
        headers={"Authorization": f"Bearer {svc.token}"},
        json={"dirs": [str(root)], "webhooks": [good.url, bad.url]},
        timeout=10,
    )
    cid = r.json()["crawl_id"]
    xtr = svc.client()
    xtr.wait_for_crawls(cid, progress=False)
    xtr.xtract_and_wait([cid], progress=False)
    xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="jsonl")
    wanted = {
        "crawl.started",
        "crawl.completed",
        "xtract.started",
        "xtract.completed",
        "offload.started",
        "offload.completed",
    }
    deadline = time.monotonic() + 30
    while {e["event"] for e in good.events} < wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {e["event"] for e in good.events} == wanted
    assert all(e["crawl_id"] == cid for e in good.events)
    while len(bad.events) < 3 * len(wanted) and time.monotonic() < deadline:
        time.sleep(0.1)
    hooks = requests.get(
        f"{svc.url}/v1/crawls/{cid}/webhooks",
        headers={"Authorization": f"Bearer {svc.token}"},
        timeout=10,
    ).json()
    assert {f["url"] for f in hooks["failures"]} == {bad.url}
    assert hooks["failures"][0]["error"] == "HTTP 500"


class Redirect(Hook):
    """A receiver that answers every POST with a redirect to ``target``."""

    def __init__(self, target: str) -> None:
        super().__init__()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                hook.events.append({})
                self.send_response(307)
                self.send_header("Location", target)
                self.end_headers()

        self.server.RequestHandlerClass = Handler


def test_webhooks_are_signed_and_redirects_are_not_followed(env: dict, data_root: Path) -> None:
    import hmac
    import time

    target, good = Hook(), SignedHook()
    redirect = Redirect(target.url)
    svc = env["service"]
    root = data_root / "signed-corpus"
    root.mkdir(exist_ok=True)
    r = requests.post(
        f"{svc.url}/v1/crawls",
        headers={"Authorization": f"Bearer {svc.token}"},
        json={"dirs": [str(root)], "webhooks": [good.url, redirect.url]},
        timeout=10,
    )
    started = r.json()
    secret = started["webhook_secrets"][good.url]
    svc.client().wait_for_crawls(started["crawl_id"], progress=False)
    deadline = time.monotonic() + 30
    while len(good.deliveries) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [json.loads(b)["event"] for b, _ in good.deliveries] == [
        "crawl.started",
        "crawl.completed",
    ]
    for body, headers in good.deliveries:
        mac = hmac.new(
            secret.encode(), f"{headers['X-Xtract-Timestamp']}.{body}".encode(), "sha256"
        )
        assert headers["X-Xtract-Signature"] == "sha256=" + mac.hexdigest()

    def report() -> dict[str, Any]:
        return requests.get(
            f"{svc.url}/v1/crawls/{started['crawl_id']}/webhooks",
            headers={"Authorization": f"Bearer {svc.token}"},
            timeout=10,
        ).json()

    while not report()["failures"] and time.monotonic() < deadline:
        time.sleep(0.1)  # given up on after every try
    hooks = report()
    assert redirect.events and target.events == []  # the redirect was never followed
    assert {f["error"] for f in hooks["failures"]} == {"redirect refused"}
    assert "secret" not in json.dumps(hooks)


class SignedHook:
    """A receiver that keeps each delivery's raw body and headers."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, dict[str, str]]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                hook.deliveries.append((body, dict(self.headers)))
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/signed"


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_duckdb_and_pandas_read_the_exports_with_no_options(
    extracted: tuple, dest: Path, fmt: str
) -> None:
    import duckdb
    import pandas as pd

    xtr, cid, files = extracted
    folder = offload(xtr, cid, dest, fmt, format_params={"max_items": 9})  # several parts
    assert len(checked_parts(folder)) > 1
    if fmt == "parquet":
        source = f"'{folder}/*.parquet'"
        df = pd.concat(pd.read_parquet(p) for p in sorted(folder.glob("*.parquet")))
        assert str(df["mtime"].dtype).startswith("datetime64") and len(df) == len(files)
    else:
        source = f"read_json_auto('{folder}/*.jsonl')"
    con: Any = duckdb.connect()
    n, distinct = con.execute(f"SELECT count(*), count(DISTINCT path) FROM {source}").fetchone()
    assert n == distinct == len(files)
    kind = con.execute(f"SELECT typeof(mtime) FROM {source} LIMIT 1").fetchone()[0]
    assert kind.startswith("TIMESTAMP"), kind
    rows_sql = "tabular.rows" if fmt == "parquet" else "metadata.tabular.rows"
    (rows,) = con.execute(
        f"SELECT {rows_sql} FROM {source} WHERE path LIKE '%good/table.csv'"
    ).fetchone()
    assert rows == 100


def test_sql_over_a_crawl_with_to_duckdb_and_xtract_query(extracted: tuple) -> None:
    import subprocess
    import sys

    xtr, cid, files = extracted
    con = xtr.to_duckdb(cid)
    assert con.execute("SELECT count(*) FROM files").fetchone()[0] == len(files)
    (rows,) = con.execute(
        "SELECT tabular.rows FROM files WHERE path LIKE '%good/table.csv'"
    ).fetchone()
    assert rows == 100
    env = {**os.environ, "XTRACT_URL": xtr.base_url, "XTRACT_TOKEN": xtr.http._token or ""}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "xtract_service.cli",
            "query",
            cid,
            "SELECT count(*) AS n FROM files",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"n": len(files)}]
    bad = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "query", cid, "SELEKT 1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "query failed" in bad.stderr


def test_search_kept_in_step_with_a_since_crawl(env: dict, data_root: Path) -> None:
    """A since= crawl's ingest deletes the entries of removed files and re-ingests the
    changed ones; subjects name the file; no ingest document holds more than 100
    entries (the emulator refuses more, as Search does)."""
    xtr = env["service"].client(tokens={"Search": TOKEN})
    tree = data_root / "search-in-step"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir()
    for i in range(150):
        (tree / f"f{i:03d}.txt").write_text(f"file {i}\n")
    xep = XtractEndpoint("local", dirs=[str(tree)])
    ((first, _),) = xtr.crawl_and_wait(xep, progress=False).items()
    xtr.xtract_and_wait(first, progress=False, timeout=240)
    (status,) = xtr.search_ingest(INDEX, crawl_ids=[first], visible_to=["public"])
    assert status["status"] == "COMPLETED", status
    assert len(status["search_tasks"]) == 2  # 150 entries: two documents of at most 100
    entries = env["search"].entries[INDEX]
    gone = f"file://{tree}/f007.txt"
    assert gone in entries

    (tree / "f007.txt").unlink()
    (tree / "f008.txt").write_text("changed, and longer than before\n")
    ((second, _),) = xtr.crawl_and_wait(xep, progress=False, since=first).items()
    xtr.xtract_and_wait(second, progress=False, timeout=240)
    (status,) = xtr.search_ingest(INDEX, crawl_ids=[second], visible_to=["public"])
    assert status["status"] == "COMPLETED", status
    assert gone not in entries and gone in env["search"].deleted
    assert entries[f"file://{tree}/f008.txt"]["content"]["size"] == len(
        "changed, and longer than before\n"
    )
    with pytest.raises(BadRequestError, match="max_items"):
        xtr.search_ingest(INDEX, crawl_ids=[second], visible_to=["public"], batch_size=101)
