"""Every bad input gets a 4xx whose message says what to fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import Service
from xtract_sdk import (
    AuthError,
    BadRequestError,
    NotFoundError,
    ServiceUnavailableError,
    XtractClient,
    XtractEndpoint,
)


def post(
    service: Service, path: str, body: Any, token: str | None = "default"
) -> requests.Response:
    headers = (
        {}
        if token is None
        else {"Authorization": f"Bearer {service.token if token == 'default' else token}"}
    )
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return requests.post(
        service.url + path,
        data=data,
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )


def error_of(resp: requests.Response) -> str:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return str(body["error"]["message"])


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"repo_type": "gdrive", "dirs": ["/tmp"]}, 400, "unknown repo_type 'gdrive'"),
        (
            {"repo_type": "local", "dirs": ["/tmp"], "grouper": "by_moon"},
            400,
            "unknown grouper 'by_moon'",
        ),
        ({"repo_type": "local"}, 400, "dirs: Field required"),
        ({"repo_type": "local", "dirs": []}, 400, "dirs: List should have at least 1 item"),
        ({"repo_type": "local", "dirs": ["data/run1"]}, 400, "must be an absolute path"),
        (
            {"repo_type": "globus", "dirs": ["/~/"], "globus_ep_id": "not-a-uuid"},
            400,
            "'not-a-uuid' is not an endpoint UUID",
        ),
        ({"repo_type": "globus", "dirs": ["/~/"]}, 400, "repo_type 'globus' needs globus_ep_id"),
        (
            {"repo_type": "local", "dirs": ["/tmp"], "colour": "red"},
            400,
            "colour: Extra inputs are not permitted",
        ),
        ("{not json", 400, "JSON decode error"),
    ],
)
def test_bad_crawl_specs_are_refused_with_a_reason(
    service: Service, body: Any, status: int, needle: str
) -> None:
    resp = post(service, "/v1/crawls", body)
    assert resp.status_code == status
    assert needle in error_of(resp)


def test_dir_outside_allowed_roots_is_refused(service: Service) -> None:
    resp = post(service, "/v1/crawls", {"dirs": ["/etc"]})
    assert resp.status_code == 400
    msg = error_of(resp)
    assert "outside the allowed roots" in msg and "XTRACT_ALLOWED_ROOTS" in msg


def test_symlink_out_of_the_allowed_roots_is_refused(service: Service, tree_dir: Path) -> None:
    (tree_dir / "escape").symlink_to("/etc")
    resp = post(service, "/v1/crawls", {"dirs": [str(tree_dir / "escape")]})
    assert resp.status_code == 400
    assert "outside the allowed roots" in error_of(resp)


def test_missing_dir_and_file_dir_are_refused(service: Service, tree_dir: Path) -> None:
    resp = post(service, "/v1/crawls", {"dirs": [str(tree_dir / "nope")]})
    assert resp.status_code == 400 and "does not exist" in error_of(resp)
    (tree_dir / "f.txt").write_text("x")
    resp = post(service, "/v1/crawls", {"dirs": [str(tree_dir / "f.txt")]})
    assert resp.status_code == 400 and "is not a directory" in error_of(resp)


def test_started_crawl_answers_202_with_location(service: Service, tree_dir: Path) -> None:
    resp = post(service, "/v1/crawls", {"dirs": [str(tree_dir)]})
    assert resp.status_code == 202
    cid = resp.json()["crawl_id"]
    assert resp.headers["Location"] == f"/v1/crawls/{cid}"
    assert resp.json()["status"] == "initializing"


@pytest.mark.parametrize("n", [0, -3, 10_001, "ten", True])
def test_bad_first_n_files_is_refused(service: Service, tree_dir: Path, n: Any) -> None:
    cid = post(service, "/v1/crawls", {"dirs": [str(tree_dir)]}).json()["crawl_id"]
    resp = post(service, f"/v1/crawls/{cid}/flush", {"first_n_files": n})
    assert resp.status_code == 400
    assert "first_n_files" in error_of(resp)


def test_unknown_and_malformed_crawl_ids_are_404(service: Service) -> None:
    xtr = service.client()
    with pytest.raises(
        NotFoundError, match="no crawl 00000000-0000-0000-0000-000000000000 belongs to you"
    ):
        xtr.get_crawl_status("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundError, match="'not-a-crawl-id' is not a crawl id"):
        xtr.flush_crawl_metadata("not-a-crawl-id", first_n_files=1)
    with pytest.raises(NotFoundError):
        xtr.cancel_crawl("../../etc")


def test_missing_and_wrong_tokens_are_401(service: Service) -> None:
    resp = requests.get(service.url + "/v1/crawls", timeout=10)
    assert resp.status_code == 401
    assert "Authorization: Bearer" in error_of(resp)
    assert str(service.home) not in error_of(resp)  # no server path to whoever asks
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    resp = requests.get(
        service.url + "/v1/crawls", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert resp.status_code == 401 and "not valid" in error_of(resp)
    with pytest.raises(AuthError):
        XtractClient(base_url=service.url, token="wrong").list_crawls()


def test_health_needs_no_token_and_docs_are_served(service: Service) -> None:
    assert requests.get(service.url + "/health", timeout=10).json()["status"] == "ok"
    assert requests.get(service.url + "/docs", timeout=10).status_code == 200
    spec = requests.get(service.url + "/openapi.json", timeout=10).json()
    assert "/v1/crawls/{crawl_id}/flush" in spec["paths"]


def test_sdk_raises_bad_request_with_the_servers_message(service: Service) -> None:
    with pytest.raises(BadRequestError, match="unknown grouper 'nope'"):
        service.client().crawl(XtractEndpoint("local", dirs=["/tmp"], grouper="nope"))


def test_sdk_says_when_the_service_is_not_running() -> None:
    with pytest.raises(ServiceUnavailableError, match="is `xtract serve` running"):
        XtractClient(base_url="http://127.0.0.1:9", token="x").list_crawls()


def test_a_proxy_or_netrc_in_the_environment_is_not_used_for_a_local_service(
    service: Service, tree_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster login node's HTTP_PROXY (no NO_PROXY) and a ~/.netrc naming this
    machine: the SDK still reaches the service on 127.0.0.1, with its own token."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
    # the event stream (a monitor's) on a session of its own, reached the same way
    events = xtr.http.stream(f"/v1/crawls/{cid}/events", {}, None)
    try:
        assert events.status_code == 200, events.status_code
    finally:
        events.close()


def test_sdk_reads_the_local_token_file_by_itself(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XTRACT_HOME", str(service.home))
    monkeypatch.delenv("XTRACT_TOKEN", raising=False)
    assert isinstance(XtractClient(base_url=service.url).list_crawls(), list)


def test_token_file_is_private(service: Service) -> None:
    assert (os.stat(service.home / "token").st_mode & 0o777) == 0o600


def test_one_owner_cannot_see_or_touch_anothers_crawls(service: Service, tree_dir: Path) -> None:
    env = {**service.full_env()}
    bob_token = subprocess.run(
        [sys.executable, "-m", "xtract_service.cli", "token", "issue", "bob"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    alice, bob = service.client(), service.client(token=bob_token)
    (cid,) = alice.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    with pytest.raises(NotFoundError):
        bob.get_crawl_status(cid)
    with pytest.raises(NotFoundError):
        bob.flush_crawl_metadata(cid, first_n_files=5)
    with pytest.raises(NotFoundError):
        bob.cancel_crawl(cid)
    assert cid not in {c["crawl_id"] for c in bob.list_crawls()}
    (bob_cid,) = bob.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    assert {c["crawl_id"] for c in bob.list_crawls()} == {bob_cid}
    assert alice.get_crawl_status(cid)["status"] in ("crawling", "complete", "initializing")
