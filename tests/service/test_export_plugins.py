"""Export drivers as plug-ins (issue 24, item 6): a package that declares an
``xtract.exporters`` entry point adds a format, or a destination, with typed, validated
parameters; the service lists it (`GET /v1/formats`, `xtract formats`) and runs it like
a built-in one."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from tests.support import Service, install_into, make_plugin, roots_env
from xtract_sdk import BadRequestError, XtractClient, XtractEndpoint

DRIVER = """
from xtract_extractors.registry import param
from xtract_service.offload.formats import PartWriter, writer
from xtract_service.offload.moves import destination


@writer("paths_tsv", "One line per file: its path and size, tab-separated.")
@param("header", bool, default=True, desc="begin with a header line")
@param("max_items", int, default=1000, low=1, high=100_000, desc="files per part")
class PathsWriter(PartWriter):
    suffix = ".tsv"

    def prepare(self, item):
        line = f"{item['path']}\\t{item['size']}".encode()
        return line, len(line) + 1

    def encode(self, items):
        head = [b"path\\tsize"] if self.options.get("header") else []
        return b"\\n".join(head + items) + b"\\n"


@destination("http_post", "POST each part to a URL (URL/NAME), then the manifest.")
@param("url", str, optional=False, desc="where to POST")
@param("token", str, default="", desc="sent as a bearer token")
def post_parts(job, params):
    import urllib.request

    from xtract_extractors.safepath import opened, read_in

    headers = {"Authorization": f"Bearer {params['token']}"} if params["token"] else {}
    with opened(job.open_staging()) as staging:
        for name in [p["name"] for p in job.committed()] + ["manifest.json"]:
            body = read_in(staging, name)
            request = urllib.request.Request(
                f"{params['url']}/{name}", data=body, method="POST", headers=headers
            )
            urllib.request.urlopen(request, timeout=30).read()
    return params["url"]
"""


@pytest.fixture(scope="module")
def plugin_service(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("exporter")
    pkg = make_plugin(root, "xtract_paths_tsv", DRIVER, group="xtract.exporters")
    site = install_into(root / "site", pkg)
    env = {**roots_env(data_root), "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    with Service(tmp_path_factory.mktemp("exporter-home"), env=env) as svc:
        yield svc


def extracted(svc: Service, tree_dir: Path, stem: str, n: int) -> tuple[XtractClient, str]:
    """``n`` small text files (``stem0.txt`` holds 0 bytes, ``stem1.txt`` 1, ...),
    crawled and extracted; the client and the crawl id."""
    for i in range(n):
        (tree_dir / f"{stem}{i}.txt").write_text("x" * i)
    xtr = svc.client()
    ((cid, _),) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False
    ).items()
    xtr.xtract_and_wait(cid, progress=False, timeout=240)
    return xtr, cid


def test_an_installed_export_driver_is_listed_validated_and_run(
    plugin_service: Service, tree_dir: Path, data_root: Path
) -> None:
    xtr, cid = extracted(plugin_service, tree_dir, "f", 5)

    (listed,) = [f for f in xtr.list_formats() if f["name"] == "paths_tsv"]
    assert [p["name"] for p in listed["params"]] == ["header", "max_items"]
    dest = data_root / "exports" / "tsv"
    dest.mkdir(parents=True, exist_ok=True)
    with pytest.raises(BadRequestError, match="header"):
        xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="paths_tsv",
                             format_params={"header": "yes"})  # fmt: skip
    folder = xtr.offload_metadata(dest_path=str(dest), crawl_ids=[cid], format="paths_tsv")
    (part,) = (Path(folder) / cid).glob("*.tsv")
    lines = part.read_text().splitlines()
    assert lines[0] == "path\tsize"
    assert sorted(lines[1:]) == sorted(f"{tree_dir / f'f{i}.txt'}\t{i}" for i in range(5))


class _Collector(http.server.BaseHTTPRequestHandler):
    received: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received[self.path.rsplit("/", 1)[-1]] = (self.headers["Authorization"], body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_an_installed_destination_is_listed_validated_and_sent_to(
    plugin_service: Service, tree_dir: Path
) -> None:
    xtr, cid = extracted(plugin_service, tree_dir, "g", 7)
    (listed,) = [d for d in xtr.list_destinations() if d["name"] == "http_post"]
    assert [p["name"] for p in listed["params"]] == ["url", "token"]
    assert {"local", "globus", "search"} <= {d["name"] for d in xtr.list_destinations()}
    api = requests.get(f"{plugin_service.url}/openapi.json", timeout=30).json()
    documented = api["paths"]["/v1/crawls/{crawl_id}/offload"]["post"]["description"]
    assert "`http_post`" in documented and "`url` (string, required)" in documented
    assert "`paths_tsv`" in documented and "`max_items` (integer)" in documented

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/ingest"
    try:
        with pytest.raises(BadRequestError, match="url"):  # a required parameter unsaid
            xtr.offload_metadata(crawl_ids=[cid], format="jsonl", move="http_post")
        with pytest.raises(BadRequestError, match="no_such_place"):
            xtr.offload_metadata(crawl_ids=[cid], format="jsonl", move="no_such_place")
        where = xtr.offload_metadata(crawl_ids=[cid], format="jsonl",
                                     format_params={"max_items": 3}, move="http_post",
                                     move_params={"url": url, "token": "t0k"})  # fmt: skip
        assert where == url
        manifest = json.loads(_Collector.received.pop("manifest.json")[1])
        assert sorted(_Collector.received) == sorted(p["name"] for p in manifest["parts"])
        lines = [
            json.loads(line)
            for auth, body in _Collector.received.values()
            for line in body.decode().splitlines()
        ]
        assert sorted(line["path"] for line in lines) == sorted(
            str(tree_dir / f"g{i}.txt") for i in range(7)
        )
        assert {auth for auth, _ in _Collector.received.values()} == {"Bearer t0k"}
        # the CLI sends there too, and `xtract formats` lists the destination
        env = {**plugin_service.full_env(), "XTRACT_URL": plugin_service.url}
        cli = [sys.executable, "-m", "xtract_service.cli"]
        listing = subprocess.run([*cli, "formats"], env=env, capture_output=True, text=True)
        assert "http_post" in listing.stdout.split("destinations", 1)[1], listing.stdout
        _Collector.received.clear()
        sent = subprocess.run(
            [*cli, "offload", cid, "--format", "jsonl", "--to", "http_post",
             "--to-param", f"url={url}"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert sent.returncode == 0 and sent.stdout.strip() == url, sent.stderr
        assert "manifest.json" in _Collector.received
    finally:
        server.shutdown()
