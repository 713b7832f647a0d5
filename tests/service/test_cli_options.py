"""The CLI's address, exit codes and errors, as a user meets them: `--url` and
`XTRACT_PORT` on every command, 2 for every usage error, JSON errors with `--json`, one
line for a server that is not Xtract, and `watch` that ends when the run is over."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.service.test_cli import xtract
from tests.support import Service, make_tree


@pytest.fixture
def env(service: Service) -> dict[str, str]:
    e = service.full_env()  # XTRACT_HOME and XTRACT_PORT of the test service
    e.pop("XTRACT_URL", None)
    return e


def test_xtract_port_and_url_reach_the_service(service: Service, env: dict[str, str]) -> None:
    by_port = xtract("ls", "--json", env=env)
    assert by_port.returncode == 0, by_port.stderr
    wrong = {**env, "XTRACT_PORT": "1"}
    assert xtract("ls", env=wrong).returncode == 1  # nothing listens there
    by_url = xtract("--url", service.url, "ls", "--json", env=wrong)
    assert by_url.returncode == 0, by_url.stderr
    assert json.loads(by_url.stdout) == json.loads(by_port.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ["crawl", "{dir}", "--grouper", "by_colour"],
        ["xtract", "{cid}", "--executor", "slurm"],
        ["xtract", "{cid}", "--extractor", "nope"],
        ["offload", "{cid}", "--format", "xls"],
        ["crawl", "{dir}", "--no-such-option"],
    ],
    ids=["grouper", "executor", "extractor", "format", "option"],
)
def test_every_usage_error_exits_2_and_is_json_with_json(
    env: dict[str, str], service: Service, tree_dir: Path, args: list[str]
) -> None:
    make_tree(tree_dir, 3)
    cid = service.client().crawl_and_wait(
        __import__("xtract_sdk").XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False
    )
    (crawl_id,) = cid
    argv = [a.format(dir=tree_dir, cid=crawl_id) for a in args]
    plain = xtract(*argv, env=env)
    assert plain.returncode == 2, (plain.stdout, plain.stderr)
    assert "Traceback" not in plain.stderr
    as_json = xtract(*argv, "--json", env=env)
    assert as_json.returncode == 2
    err = json.loads(as_json.stdout)["error"]  # the parser's own errors too
    if "--no-such-option" in argv:
        assert err == {"code": "usage", "message": "No such option: --no-such-option",
                       "status": None}  # fmt: skip
        return
    assert len(plain.stderr.strip().splitlines()) == 1
    assert err["message"] and err["status"] == 400  # one status for every refused value


@pytest.fixture
def not_xtract() -> Iterator[str]:
    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = b"<html><body>It works!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_server_that_is_not_xtract_gets_one_clear_line(
    env: dict[str, str], not_xtract: str
) -> None:
    out = xtract("--url", not_xtract, "ls", env=env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert "not as an Xtract service does" in line and "text/html" in line
    out = xtract("--url", not_xtract, "ls", "--json", env=env)
    assert json.loads(out.stdout)["error"]["code"] == "not_xtract"


def test_watch_on_a_finished_run_replays_and_ends_with_file_paths(
    env: dict[str, str], service: Service, tree_dir: Path
) -> None:
    files = make_tree(tree_dir, 5, fanout=1, depth=1)
    xtr = service.client()
    from xtract_sdk import XtractEndpoint

    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    xtr.xtract_and_wait(cid, progress=False, timeout=120)
    out = xtract("watch", cid, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any("crawl.completed" in x for x in lines) and any(
        "xtract.completed" in x for x in lines
    )
    extracted = [x for x in lines if "family.extracted" in x]
    assert len(extracted) == len(files)
    assert {p for p in files if any(p in x for x in extracted)} == set(files)


def test_links_changes_and_watch_lines_say_what_happened(
    env: dict[str, str], service: Service, tree_dir: Path
) -> None:
    """Skipped links are said and --follow-symlinks follows them; `xtract changes` lists
    a since crawl's paths; `watch` lines start with the time, not a stream id."""
    import os
    import re

    data = tree_dir / "data"
    make_tree(data / "real", 4, fanout=1, depth=1)
    os.symlink(data / "real", data / "link")
    plain = xtract("crawl", str(data), "--wait", env=env, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert "1 symbolic link skipped (not followed)" in plain.stdout, plain.stdout
    first = json.loads(xtract("crawl", str(data), "--wait", "--json", env=env).stdout)
    followed = json.loads(
        xtract("crawl", str(data), "--wait", "--json", "--follow-symlinks", env=env).stdout
    )
    assert first["data"]["links_skipped"] == 1 and followed["data"]["links_skipped"] == 0
    # the linked folder is the real one: read once, whichever name reached it first
    assert followed["data"]["files_crawled"] == first["data"]["files_crawled"] == 4

    (data / "real" / "new.txt").write_text("added after the first crawl")
    again = json.loads(
        xtract("crawl", str(data), "--since", first["crawl_id"], "--wait", "--json", env=env).stdout
    )
    listed = xtract("changes", again["crawl_id"], env=env)
    assert listed.returncode == 0 and listed.stdout.split() == [str(data / "real" / "new.txt")]
    as_json = json.loads(xtract("changes", again["crawl_id"], "--kind", "removed", "--json",
                                env=env).stdout)  # fmt: skip
    assert as_json["paths"] == []

    watched = xtract("watch", again["crawl_id"], env=env, timeout=60)
    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.splitlines()
    assert lines and all(re.match(r"^\d\d:\d\d:\d\d\.\d{3}  ", x) for x in lines), lines
