"""Bad input at the door: each gets a 4xx naming what is wrong, never a 500, and loses
nothing. The cases are the ones found by trying the service as an attacker would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import Service
from xtract_sdk import XtractEndpoint


def send(
    svc: Service, method: str, path: str, body: Any = None, raw: str | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {svc.token}", "Content-Type": "application/json"}
    data = raw if raw is not None else None
    return requests.request(
        method,
        svc.url + path,
        json=body if raw is None else None,
        data=data,
        headers=headers,
        timeout=30,
    )


@pytest.fixture(scope="module")
def crawl_id(service: Service, data_root: Path) -> str:
    d = data_root / "requests-tree"
    d.mkdir(exist_ok=True)
    (d / "a.txt").write_text("words\n")
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(d)]), progress=False)
    return cid


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/crawls", '{"dirs": ["/tmp/\\ud800"]}'),
        ("/v1/crawls", '{"dirs": ["/tmp"], "skip": ["\\ud800"]}'),
        ("/v1/crawls", '{"dirs": ["/tmp"], "webhooks": ["http://x/\\ud800"]}'),
        ("/crawl", '{"dir_path": "/tmp/\\ud800"}'),
        ("/crawl", '{"endpoints": [{"dir_paths": ["/tmp"]}], "tokens": {"Transfer": "\\ud800"}}'),
    ],
    ids=["dirs", "skip", "webhook", "legacy-dirs", "legacy-token"],
)
def test_a_lone_surrogate_is_a_400_naming_the_field(service: Service, path: str, raw: str) -> None:
    resp = send(service, "POST", path, raw=raw)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]  # the legacy routes answer the published {crawl_id, error}
    message = error if isinstance(error, str) else error["message"]
    assert "unicode" in message.lower()


def test_huge_skip_patterns_are_refused_before_any_work(service: Service) -> None:
    resp = send(service, "POST", "/v1/crawls", {"dirs": ["/tmp"], "skip": ["A" * 2000] * 5})
    assert resp.status_code == 400 and "skip" in resp.json()["error"]["message"]


def test_a_body_over_the_limit_is_a_413(service: Service) -> None:
    resp = send(service, "POST", "/v1/crawls", raw='{"dirs": ["' + "a" * (2 << 20) + '"]}')
    assert resp.status_code == 413 and "larger than" in resp.json()["error"]["message"]


def test_a_malformed_metadata_cursor_is_a_400(service: Service, crawl_id: str) -> None:
    resp = send(service, "GET", f"/v1/crawls/{crawl_id}/metadata?after=abc:1")
    assert resp.status_code == 400, resp.text  # the cursor is refused before anything else
    resp = send(service, "POST", f"/v1/crawls/{crawl_id}/xtract", {})
    assert resp.status_code == 202
    resp = send(service, "GET", f"/v1/crawls/{crawl_id}/metadata?after=abc:1")
    assert resp.status_code == 400 and "bad cursor" in resp.json()["error"]["message"]


@pytest.mark.parametrize("event_id", ["99999999999999999999-0", "1-99999999999999999999"])
def test_an_out_of_range_event_id_is_a_400_not_a_broken_stream(
    service: Service, crawl_id: str, event_id: str
) -> None:
    resp = send(service, "GET", f"/v1/crawls/{crawl_id}/events?after={event_id}")
    assert resp.status_code == 400 and "event id" in resp.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"fx_eid": "8b2e4b2c-1f5e-4d7a-9c1e-0c2f3a4b5c6d", "containers": "not a mapping"},
        {"fx_eid": "8b2e4b2c-1f5e-4d7a-9c1e-0c2f3a4b5c6d", "container_path": {"a": 1}},
    ],
    ids=["containers", "container_path"],
)
def test_legacy_config_containers_with_wrong_types_is_a_400(service: Service, body: dict) -> None:
    assert send(service, "POST", "/config_containers", body).status_code == 400


def test_legacy_crawl_with_a_token_object_is_not_a_500(service: Service, data_root: Path) -> None:
    body: Any = {"dir_path": str(data_root), "Transfer": {"not": "a string"}}
    resp = send(service, "POST", "/crawl", body)
    assert resp.status_code == 200, resp.text
    body = {"endpoints": [{"dir_paths": [str(data_root)]}], "tokens": {"Transfer": {"x": 1}}}
    assert send(service, "POST", "/crawl", body).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"memory_limit": 10**18}, "memory_limit"),
        ({"params": {"tabular": {"sample_bytes": 10**12}}}, "sample_bytes"),
        ({"params": {"filetype": {"algorithm": "md4-nope"}}}, "algorithm"),
        ({"extractors": ["x" * 300]}, "extractors"),
    ],
    ids=["memory", "sample_bytes", "algorithm", "name"],
)
def test_extraction_parameters_are_checked_at_the_door(
    service: Service, data_root: Path, body: dict, field: str
) -> None:
    d = data_root / "params-tree"
    d.mkdir(exist_ok=True)
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(d)]), progress=False)
    resp = send(service, "POST", f"/v1/crawls/{cid}/xtract", body)
    assert resp.status_code == 400, resp.text
    assert field in resp.json()["error"]["message"]
    assert send(service, "GET", f"/v1/crawls/{cid}/xtract").status_code == 404  # nothing began


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"filters": [{"field": "path", "op": "regex", "value": "(a)\\1"}]}, "cannot be used"),
        ({"format": "parquet", "format_params": {"compression": "zip-nope"}}, "compression"),
        ({"filters": [{"field": "path", "value": "x" * 20_000}]}, "larger than"),
        ({"dest_path": "/tmp/a\x00b"}, "NUL"),
    ],
    ids=["backreference", "codec", "value", "nul"],
)
def test_offload_requests_are_checked_at_the_door(
    service: Service, crawl_id: str, body: dict, words: str
) -> None:
    send(service, "POST", f"/v1/crawls/{crawl_id}/xtract", {})  # an extraction to offload
    resp = send(service, "POST", f"/v1/crawls/{crawl_id}/offload", body)
    assert resp.status_code == 400, resp.text
    assert words in resp.json()["error"]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://localhost:8765/health",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:22/",
        "file:///etc/passwd",
        "gopher://example.org/",
        "http://user:pass@example.org/",
    ],
    ids=["redis", "localhost", "private", "metadata", "v6-loopback", "file", "gopher", "creds"],
)
def test_a_webhook_that_would_reach_inside_is_refused(service: Service, url: str) -> None:
    resp = send(service, "POST", "/v1/crawls", {"dirs": ["/tmp"], "webhooks": [url]})
    assert resp.status_code == 400, resp.text
    message = resp.json()["error"]["message"]
    assert "webhook" in message and "6379" not in message.replace(url, "")
