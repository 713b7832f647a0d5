"""Globus Auth end to end: people log in through the SDK (globus-sdk's own login flow
against the Auth emulator), the service introspects their tokens and acts for them with
dependent tokens; two identities never see each other's crawls; refresh, logout and
every kind of bad token."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.globus_env import (
    ENDPOINT,
    NATIVE_CLIENT,
    ROBOT_CLIENT,
    ROBOT_SECRET,
    SERVICE_CLIENT,
    XTRACT_SCOPE,
    GlobusWorld,
    code_for,
    globus_world,
)
from tests.hostile.test_secrets import everything_in
from tests.support import all_documents, make_tree
from xtract_sdk import AuthError, NotFoundError, XtractEndpoint


@pytest.fixture(scope="module")
def world(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GlobusWorld]:
    with globus_world(data_root, tmp_path_factory.mktemp("globus-auth")) as w:
        yield w


def call(
    world: GlobusWorld, method: str, path: str, token: str | None, body: Any = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method, world.service.url + path, json=body, headers=headers, timeout=10
    )


def test_two_identities_crawl_extract_offload_and_never_see_each_other(
    world: GlobusWorld, data_root: Path
) -> None:
    alice = world.login("alice")
    bob = world.login("bob")
    assert alice.whoami()["owner"] == world.auth.identity("alice")["sub"]
    assert bob.whoami()["owner"] == world.auth.identity("bob")["sub"]
    assert oct(os.stat(world.tmp / "alice-tokens.db").st_mode & 0o777) == "0o600"

    # a Globus crawl with no Transfer token passed: the service's dependent token lists
    tree = make_tree(world.root / "alice", 40, fanout=2, depth=2)
    grants = world.auth.count("v2/oauth2/token")
    (gcid,) = alice.crawl_and_wait(
        XtractEndpoint("globus", globus_ep_id=ENDPOINT, dirs=["/alice"]), progress=False
    )
    assert world.auth.count("v2/oauth2/token") > grants  # the dependent token grant
    assert alice.get_crawl_status(gcid)["data"]["files_crawled"] == len(tree)

    # a local crawl, extracted and offloaded
    local = data_root / f"alice-local-{uuid.uuid4().hex[:6]}"
    files = make_tree(local, 12, fanout=2, depth=1)
    (cid,) = alice.crawl_and_wait(XtractEndpoint("local", dirs=[str(local)]), progress=False)
    (final,) = alice.xtract_and_wait(cid, progress=False, timeout=180)
    assert final["xtract_status"] == "COMPLETED"
    docs = all_documents(alice, cid)
    assert {p for d in docs for p in d["metadata"]} == set(files)
    out = alice.offload_metadata(crawl_ids=cid, dest_path=str(data_root / "alice-out"))
    assert any(Path(out).rglob("MANIFEST.sha256"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-\d\d\.\d\d\.\d\d", Path(out).name), out

    # bob: 404 on every route of alice's crawls, legacy routes included
    assert alice.list_crawls() and not bob.list_crawls()
    token = bob.http.headers()["Authorization"].removeprefix("Bearer ")
    token_sub = world.auth.identity("bob")["sub"]
    checked = set()
    for c in (cid, gcid):
        for method, path, body in [
            ("GET", f"/v1/crawls/{c}", None),
            ("DELETE", f"/v1/crawls/{c}", None),
            ("POST", f"/v1/crawls/{c}/flush", {"first_n_files": 5}),
            ("POST", f"/v1/crawls/{c}/xtract", {}),
            ("GET", f"/v1/crawls/{c}/xtract", None),
            ("GET", f"/v1/crawls/{c}/metadata", None),
            ("GET", f"/v1/crawls/{c}/metadata/search?path=f", None),
            ("GET", f"/v1/crawls/{c}/changes", None),
            ("POST", f"/v1/crawls/{c}/xtract/retry", {}),
            ("POST", f"/v1/crawls/{c}/xtract/clear", {}),
            ("POST", f"/v1/crawls/{c}/offload", {}),
            ("GET", f"/v1/crawls/{c}/offload", None),
            ("POST", f"/v1/crawls/{c}/search", {"index_id": str(uuid.uuid4())}),
            ("GET", f"/v1/crawls/{c}/offload/{uuid.uuid4()}", None),
            ("POST", f"/v1/crawls/{c}/webhooks", {"urls": ["https://example.org/h"]}),
            ("GET", f"/v1/crawls/{c}/webhooks", None),
            ("GET", f"/v1/crawls/{c}/events", None),
            ("GET", f"/v1/crawls/{c}/events/newest", None),
            ("GET", f"/v1/crawls/{c}/index", None),
            ("GET", f"/v1/crawls/{c}/index/part-00001.parquet", None),
            ("POST", f"/v1/crawls/{c}/index/rebuild", {}),
            ("GET", f"/v1/crawls/{c}/shares", None),
            ("POST", f"/v1/crawls/{c}/shares", {"identities": [token_sub]}),
            ("POST", f"/v1/crawls/{c}/shares/remove", {"identities": [token_sub]}),
            ("GET", "/get_crawl_status", {"crawl_id": c}),
            ("GET", "/fetch_crawl_mdata", {"crawl_id": c, "n": 5}),
            ("POST", "/extract", {"crawl_id": c}),
            ("GET", "/get_extract_status", {"crawl_id": c}),
        ]:
            resp = call(world, method, path, token, body)
            assert resp.status_code == 404, (method, path, resp.status_code, resp.text)
            route = path.replace(c, "{crawl_id}").split("/offload/")[0].split("?")[0]
            route = route.replace("/index/part-00001.parquet", "/index/{part}")
            checked.add((method, route))
    # every route that names a crawl was tried
    spec = requests.get(world.service.url + "/openapi.json", timeout=10).json()
    named = {
        (m.upper(), p.split("/offload/")[0])
        for p, ops in spec["paths"].items()
        if "{crawl_id}" in p
        for m in ops
    }
    assert named <= checked, named - checked
    with pytest.raises(NotFoundError):
        bob.get_crawl_status(cid)
    # alice still has everything after bob's attempts
    assert alice.get_crawl_status(cid)["status"] == "complete"
    assert len(all_documents(alice, cid)) == len(docs)


def test_an_expired_access_token_is_refreshed_by_the_sdk(world: GlobusWorld) -> None:
    world.auth.access_lifetime = 2
    try:
        carol = world.login("carol")
        first = carol.http.headers()["Authorization"]
        assert carol.whoami()["name"] == "carol@example.org"
        time.sleep(2.5)  # the access token is now expired at Globus Auth
        refreshes = world.auth.count("v2/oauth2/token")
        assert carol.whoami()["name"] == "carol@example.org"
        assert world.auth.count("v2/oauth2/token") > refreshes
        assert carol.http.headers()["Authorization"] != first
        # the expired token itself is refused
        resp = call(world, "GET", "/v1/me", first.removeprefix("Bearer "))
        assert resp.status_code == 401 and "log in" in resp.json()["error"]["message"]
    finally:
        world.auth.access_lifetime = 3600


def test_stored_tokens_are_reused_and_force_login_runs_the_flow_again(
    world: GlobusWorld,
) -> None:
    world.login("dave").whoami()
    flows = world.auth.count("v2/oauth2/authorize")
    world.login("dave").whoami()
    assert world.auth.count("v2/oauth2/authorize") == flows  # from the token file
    world.login("dave", force_login=True).whoami()
    assert world.auth.count("v2/oauth2/authorize") == flows + 1


def test_logout_revokes_and_deletes_the_tokens(world: GlobusWorld) -> None:
    erin = world.login("erin")
    token = erin.http.headers()["Authorization"].removeprefix("Bearer ")
    assert call(world, "GET", "/v1/me", token).status_code == 200
    erin.logout()
    assert erin.globus_login.stored_tokens() == {}  # forgotten, not only revoked
    assert world.auth.live_tokens("erin") == 0
    time.sleep(1.2)  # the service's introspection cache (1 s here) runs out
    resp = call(world, "GET", "/v1/me", token)
    assert resp.status_code == 401
    assert "revoked" in resp.json()["error"]["message"]


def test_bad_tokens_get_a_4xx_with_a_message_and_are_never_stored(world: GlobusWorld) -> None:
    cases = {
        "malformed": ("not a token at all", 401, "invalid_token"),
        "wrong audience": (
            world.token("frank", "urn:globus:auth:scope:search.api.globus.org:all"),
            401,
            "wrong_audience",
        ),
        "no Xtract scope": (
            world.token("frank", f"https://auth.globus.org/scopes/{SERVICE_CLIENT}/other"),
            403,
            "missing_scope",
        ),
    }
    revoked = world.token("frank")
    requests.post(
        world.auth.url + "v2/oauth2/token/revoke",
        data={"token": revoked, "client_id": NATIVE_CLIENT},
        timeout=10,
    )
    cases["revoked"] = (revoked, 401, "invalid_token")
    for name, (token, status, code) in cases.items():
        for path in ("/v1/crawls", "/v1/me"):
            resp = call(world, "GET", path, token)
            assert resp.status_code == status, (name, resp.text)
            err = resp.json()["error"]
            assert err["code"] == code and err["message"], name
            assert token not in resp.text
    # legacy routes refuse them in the published error shape
    resp = call(world, "POST", "/crawl", None, {"endpoints": [], "tokens": {"Authorization": "x"}})
    assert resp.status_code == 401 and set(resp.json()) >= {"crawl_id", "error"}
    # no token the service saw rests in Redis
    import redis

    sock = str(world.service.home / "redis" / "redis.sock")
    everything = everything_in(redis.Redis(unix_socket_path=sock))
    for token, _, _ in cases.values():
        assert token.encode() not in everything


def test_globus_auth_unreachable_is_a_503(world: GlobusWorld) -> None:
    token = world.token("gina")
    world.auth.down = True
    try:
        resp = call(world, "GET", "/v1/me", token)
        assert resp.status_code == 503
        assert "Globus Auth" in resp.json()["error"]["message"]
    finally:
        world.auth.down = False
    assert call(world, "GET", "/v1/me", token).status_code == 200


def test_a_local_service_needs_no_globus(service) -> None:  # type: ignore[no-untyped-def]
    from xtract_sdk import XtractClient

    xtr = XtractClient(base_url=service.url, token=service.token)
    assert xtr.whoami() == {"owner": "local", "name": "local", "auth": "local"}
    assert xtr.globus_login is None
    with pytest.raises(AuthError):
        XtractClient(base_url=service.url, token="nope").whoami()


def test_xtract_login_and_logout_in_a_terminal(world: GlobusWorld) -> None:
    """`xtract login` prints the URL and reads the code from its input, as a person
    at a terminal would type it; `xtract logout` revokes."""
    home = world.tmp / "hank-home"
    env = {
        **os.environ,
        "XTRACT_URL": world.service.url,
        "XTRACT_HOME": str(home),
        "GLOBUS_SDK_SERVICE_URL_AUTH": world.auth.url,
    }
    env.pop("XTRACT_TOKEN", None)
    world.auth.browser_user = "hank"
    cli = [sys.executable, "-m", "xtract_service.cli"]
    proc = subprocess.Popen(
        [*cli, "login"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    url = ""
    while not url:
        line = proc.stdout.readline()
        assert line, "xtract login ended without printing a URL"
        if line.strip().startswith("http"):
            url = line.strip()
    proc.stdin.write(code_for(url) + "\n")
    proc.stdin.flush()
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "logged in as hank@example.org" in out
    stored = home / "storage.db"
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(stored) as db:  # in the namespace of its environment and profile
        rows = db.execute("SELECT namespace, token_data_json FROM token_storage").fetchall()
    assert {ns for ns, _ in rows} == {"production/default"}
    assert any(XTRACT_SCOPE in data for _, data in rows)
    scopes = " ".join(json.loads(data)["scope"] for _, data in rows)
    assert "search.api.globus.org:ingest" in scopes and "search.api.globus.org:all" not in scopes
    # a second command uses the stored tokens: no prompt
    done = subprocess.run(
        [*cli, "ls", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*cli, "logout"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "revoked" in done.stdout, done.stderr
    with sqlite3.connect(stored) as db:
        assert db.execute("SELECT count(*) FROM token_storage").fetchone() == (0,)
    assert world.auth.live_tokens("hank") == 0

    # with no terminal to ask in, a login that is needed is one line, not a prompt
    quiet = subprocess.run(
        [*cli, "ls"], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert quiet.returncode == 1 and quiet.stdout == "", quiet
    (line,) = quiet.stderr.strip().splitlines()
    assert "no terminal" in line and "XTRACT_CLIENT_ID" in line


def test_an_earlier_versions_json_tokens_are_imported_once(world: GlobusWorld) -> None:
    """The JSON token file of earlier versions is taken into the SQLite storage and
    deleted; the tokens in it work without a new login."""
    from globus_sdk.token_storage import JSONTokenStorage

    home = world.tmp / "ivy-home"
    ivy = world.login("ivy")
    assert ivy.whoami()["name"] == "ivy@example.org"
    old = home / "sdk-tokens.json"
    home.mkdir()
    JSONTokenStorage(old).store_token_data_by_resource_server(ivy.globus_login.stored_tokens())
    env = {**os.environ, "XTRACT_URL": world.service.url, "XTRACT_HOME": str(home)}
    env.pop("XTRACT_TOKEN", None)
    flows = world.auth.count("v2/oauth2/authorize")
    done = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "ls", "--json"], env=env,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert world.auth.count("v2/oauth2/authorize") == flows  # no new login
    assert not old.exists() and (home / "storage.db").exists()


def test_a_service_account_logs_in_with_client_credentials(world: GlobusWorld) -> None:
    """XTRACT_CLIENT_ID and XTRACT_CLIENT_SECRET: no prompt, the client's own identity;
    one of them alone is an error."""
    home = world.tmp / "robot-home"
    env = {**os.environ, "XTRACT_URL": world.service.url, "XTRACT_HOME": str(home),
           "XTRACT_CLIENT_ID": ROBOT_CLIENT, "XTRACT_CLIENT_SECRET": ROBOT_SECRET}  # fmt: skip
    env.pop("XTRACT_TOKEN", None)
    cli = [sys.executable, "-m", "xtract_service.cli"]
    flows = world.auth.count("v2/oauth2/authorize")
    done = subprocess.run([*cli, "login"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"logged in as {ROBOT_CLIENT}@clients.auth.globus.org" in done.stdout
    assert world.auth.count("v2/oauth2/authorize") == flows  # no login flow at all
    listed = subprocess.run([*cli, "ls", "--json"], env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    half = {k: v for k, v in env.items() if k != "XTRACT_CLIENT_ID"}
    refused = subprocess.run([*cli, "ls"], env=half, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert "XTRACT_CLIENT_SECRET is set but XTRACT_CLIENT_ID is not" in line


def staged_tree(root: Path) -> dict[str, bytes]:
    """Real files of a few kinds on the Globus endpoint, by their Globus path."""
    files = {
        "/data/table.csv": b"name,count,when\nalpha,1,2024-01-02\nbeta,2,2024-02-03\n",
        "/data/notes.txt": b"Metadata extraction from staged copies of Globus files.\n" * 20,
        "/data/sub/config.json": json.dumps({"a": 1, "b": [1, 2, 3]}).encode(),
        "/data/sub/deep/run.py": b"import os\n\n\ndef main():\n    return os.getcwd()\n",
        "/data/gone.csv": b"x,y\n1,2\n",
    }
    base = root / "stage"
    for path, data in files.items():
        local = base / path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
    return {"/stage" + p: d for p, d in files.items()}


@pytest.mark.parametrize("method", ["https", "transfer"])
def test_a_globus_crawl_with_no_compute_endpoint_is_extracted_through_staging(
    world: GlobusWorld, method: str
) -> None:
    import shutil

    shutil.rmtree(world.root / "stage", ignore_errors=True)
    files = staged_tree(world.root)
    if method == "transfer":  # Globus Auth will not grant the HTTPS scope: Transfer it is
        world.auth.refuse_scopes = {f"https://auth.globus.org/scopes/{ENDPOINT}/https"}
    try:
        ivy = world.login(f"ivy-{method}")  # a new identity: no HTTPS token cached
        (cid,) = ivy.crawl_and_wait(
            XtractEndpoint("globus", globus_ep_id=ENDPOINT, dirs=["/stage"]), progress=False
        )
        (world.root / "stage/data/gone.csv").unlink()  # vanishes before it is staged
        downloads = world.transfer.https_downloads
        (final,) = ivy.xtract_and_wait(cid, progress=False, timeout=180)
    finally:
        world.auth.refuse_scopes = set()
    assert final["xtract_status"] == "COMPLETED", final
    fx = final["xtract_counters"]["fx"]
    assert fx["success"] + fx["failed"] == len(files) and fx["pending"] == 0
    found = {}
    for doc in all_documents(ivy, cid):
        for path, md in doc["metadata"].items():
            found[path] = (md, [e for e in doc["errors"] if e["path"] == path])
    assert set(found) == set(files)  # the documents name the Globus paths
    table, errors = found["/stage/data/table.csv"]
    assert not errors and table["tabular"]["rows"] == 2
    assert table["tabular"]["column_profiles"][0]["name"] == "name"
    assert table["filetype"]["sha256"] == hashlib.sha256(files["/stage/data/table.csv"]).hexdigest()
    assert found["/stage/data/sub/config.json"][0]["jsonxml"]
    assert found["/stage/data/sub/deep/run.py"][0]["python"]
    gone_md, gone_errors = found["/stage/data/gone.csv"]
    assert gone_md == {} and gone_errors[0]["extractor"] == "staging"
    if method == "https":
        assert world.transfer.https_downloads - downloads == len(files) - 1
    # the staged copies are gone
    staging = (
        world.service.home / "staging" / cid
        if method == "https"
        else world.collection_root / "xtract-staging" / cid
    )
    assert staging.is_dir() and not any(staging.rglob("*")), list(staging.rglob("*"))


def test_staging_needs_a_way_to_reach_the_files(world: GlobusWorld) -> None:
    """A Globus crawl extracted with no Compute endpoint, no HTTPS token and no local
    collection: a 400 that says what would do."""
    staged_tree(world.root)
    token = world.token("jo")
    transfer = world.token("jo", "urn:globus:auth:scope:transfer.api.globus.org:all")
    body = {"repo_type": "globus", "globus_ep_id": ENDPOINT, "dirs": ["/stage"], "tokens": {}}
    cid = call(world, "POST", "/v1/crawls", token, body).json()["crawl_id"]
    world.auth.refuse_scopes = {f"https://auth.globus.org/scopes/{ENDPOINT}/https"}
    try:
        resp = call(
            world,
            "POST",
            "/extract",
            None,
            {"crawl_id": cid, "fx_ep_ids": [None], "tokens": {"Authorization": transfer}},
        )
    finally:
        world.auth.refuse_scopes = set()
    # a Transfer token and the host's collection: accepted, staged by Transfer
    assert resp.status_code == 200, resp.text


def test_a_crawl_shared_read_only_with_an_identity_and_a_group(
    world: GlobusWorld, data_root: Path
) -> None:
    owner = world.login("kim")
    reader, member, stranger = world.login("lee"), world.login("mo"), world.login("ned")
    team = world.groups.group("team", "mo")
    local = data_root / f"kim-{uuid.uuid4().hex[:6]}"
    make_tree(local, 6, fanout=2, depth=1)
    (cid,) = owner.crawl_and_wait(XtractEndpoint("local", dirs=[str(local)]), progress=False)
    owner.xtract_and_wait(cid, progress=False, timeout=180)
    got = owner.share_crawl(cid, [world.auth.identity("lee")["sub"]], [team])
    assert got["identities"] == [world.auth.identity("lee")["sub"]] and got["groups"] == [team]

    def reads(client) -> list[int]:  # type: ignore[no-untyped-def]
        token = client.http.headers()["Authorization"].removeprefix("Bearer ")
        codes = []
        for path in (
            f"/v1/crawls/{cid}",
            f"/v1/crawls/{cid}/xtract",
            f"/v1/crawls/{cid}/metadata",
            f"/v1/crawls/{cid}/offload",
        ):
            codes.append(call(world, "GET", path, token).status_code)
        with requests.get(
            f"{world.service.url}/v1/crawls/{cid}/events",
            headers={"Authorization": f"Bearer {token}"},
            stream=True,
            timeout=10,
        ) as events:
            codes.append(events.status_code)
        return codes

    assert reads(reader) == [200] * 5
    assert reads(member) == [200] * 5  # through the group, asked of Globus Groups
    assert world.groups.calls > 0
    assert reads(stranger) == [404] * 5
    assert len(all_documents(reader, cid)) == 6
    # readers change nothing
    token = reader.http.headers()["Authorization"].removeprefix("Bearer ")
    for method, path, body in [
        ("POST", f"/v1/crawls/{cid}/flush", {"first_n_files": 5}),
        ("POST", f"/v1/crawls/{cid}/xtract/retry", {}),
        ("POST", f"/v1/crawls/{cid}/xtract/clear", {}),
        ("POST", f"/v1/crawls/{cid}/offload", {}),
        ("DELETE", f"/v1/crawls/{cid}", None),
        ("POST", f"/v1/crawls/{cid}/shares", {"identities": [str(uuid.uuid4())]}),
        ("GET", f"/v1/crawls/{cid}/shares", None),
    ]:
        assert call(world, method, path, token, body).status_code == 404, (method, path)
    assert owner.flush_crawl_metadata(cid, first_n_files=100)["num_files"] == 6
    # unshared: back to 404
    owner.share_crawl(cid, [world.auth.identity("lee")["sub"]], remove=True)
    assert reads(reader) == [404] * 5
    with pytest.raises(Exception, match="not a Globus"):
        owner.share_crawl(cid, ["lee"])


def test_a_revoked_refresh_token_asks_to_log_in_again(world: GlobusWorld) -> None:
    world.auth.access_lifetime = 1
    try:
        olga = world.login("olga")
        assert olga.whoami()["name"] == "olga@example.org"
        stored = olga.globus_login.stored_tokens()
        refresh = next(iter(stored.values())).refresh_token
        for data in stored.values():  # revoked elsewhere
            requests.post(
                world.auth.url + "v2/oauth2/token/revoke",
                data={"token": data.refresh_token, "client_id": NATIVE_CLIENT},
                timeout=10,
            )
        assert refresh
        time.sleep(1.2)
        with pytest.raises(AuthError, match="log in again"):
            olga.whoami()
    finally:
        world.auth.access_lifetime = 3600


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "XTRACT_GLOBUS_CLIENT_ID"),
        ({"XTRACT_GLOBUS_CLIENT_ID": SERVICE_CLIENT}, "XTRACT_GLOBUS_CLIENT_SECRET"),
    ],
)
def test_the_service_refuses_to_start_without_its_globus_client(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    full = {k: v for k, v in os.environ.items() if not k.startswith("XTRACT_")}
    full.update(XTRACT_HOME=str(tmp_path), XTRACT_AUTH="globus", **env)
    done = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "serve"],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert named in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_no_token_rests_in_redis_or_the_service_log(world: GlobusWorld) -> None:
    """(Last in the module.) Every token the Auth emulator issued in this module
    (logins, dependent tokens, HTTPS and Groups tokens, refreshed ones), looked for in
    all Redis holds, its append-only file and the service's verbose log."""
    import redis

    sock = str(world.service.home / "redis" / "redis.sock")
    r = redis.Redis(unix_socket_path=sock)
    r.execute_command("BGREWRITEAOF")
    time.sleep(1)
    held = everything_in(r)
    aof = b"".join(p.read_bytes() for p in (world.service.home / "redis").rglob("appendonly*"))
    log = world.log
    with world.auth._lock:
        issued = list(world.auth.tokens)
    assert len(issued) > 50 and aof and log
    leaked = [t for t in issued if t.encode() in held or t.encode() in aof or t.encode() in log]
    assert not leaked, f"{len(leaked)} tokens found"


def test_only_admitted_identities_and_allowed_apps_get_in(world: GlobusWorld) -> None:
    """Admission is closed by default and opened by XTRACT_GLOBUS_ADMIT (here: the
    domain example.org): another domain's identity, with a good Xtract token, is
    refused. A Transfer token is taken on the legacy routes only from the apps named in
    XTRACT_GLOBUS_SERVICE_CLIENTS (here: the published SDK's); one another app got for
    its user is not a login to Xtract."""
    outsider = world.token("eve@elsewhere.org")
    resp = call(world, "GET", "/v1/crawls", outsider)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "not_admitted"
    assert "XTRACT_GLOBUS_ADMIT" in resp.json()["error"]["message"]
    assert call(world, "GET", "/v1/crawls", world.token("frank")).status_code == 200

    scope = "urn:globus:auth:scope:transfer.api.globus.org:all"
    cid = str(uuid.uuid4())
    for client, status in ((SERVICE_CLIENT, 401), (NATIVE_CLIENT, 404)):
        transfer = world.token("frank", scope, client=client)
        resp = call(
            world, "POST", "/get_crawl_status", None, {"crawl_id": cid, "Transfer": transfer}
        )
        assert resp.status_code == status, (client, resp.text)
    denied = world.token("eve@elsewhere.org", scope, client=NATIVE_CLIENT)
    resp = call(world, "POST", "/get_crawl_status", None, {"crawl_id": cid, "Transfer": denied})
    assert resp.status_code == 403
