"""The published Xtract routes answer requests shaped exactly as the published SDK
sends them: JSON bodies (also on GET), tokens in the body, no Authorization header."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from tests.support import Service, make_tree


def wait_complete(service: Service, cid: str, token: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        s = requests.get(
            service.url + "/get_crawl_status",
            json={"crawl_id": cid, "Authorization": token},
            timeout=10,
        ).json()
        if s["crawl_status"] == "complete" or time.monotonic() > deadline:
            return s
        time.sleep(0.1)


def test_single_endpoint_body_with_token_in_body(service: Service, tree_dir: Path) -> None:
    tree = make_tree(tree_dir, 120)
    body = {
        "repo_type": "local",
        "eid": "",
        "dir_path": str(tree_dir),
        "grouper": "file_is_group",
        "Transfer": "",
        "Authorization": service.token,  # no "Bearer " prefix
    }
    resp = requests.post(service.url + "/crawl", json=body, timeout=10)
    assert resp.status_code == 200
    cid = resp.json()["crawl_id"]
    status = wait_complete(service, cid, f"Bearer {service.token}")
    assert status["files_crawled"] == len(tree)

    got = []
    while True:
        r = requests.get(
            service.url + "/fetch_crawl_mdata",
            json={"crawl_id": cid, "n": 50, "Authorization": service.token},
            timeout=10,
        ).json()
        assert set(r) == {"crawl_id", "file_ls", "num_files", "queue_empty"}
        got += [f["path"] for f in r["file_ls"]]
        if r["queue_empty"]:
            break
    assert sorted(got) == sorted(tree)


def test_endpoint_list_body_with_tokens_object(service: Service, tree_dir: Path) -> None:
    make_tree(tree_dir / "a", 30)
    make_tree(tree_dir / "b", 40)
    body: dict[str, Any] = {
        "endpoints": [
            {
                "repo_type": "local",
                "eid": None,
                "dir_paths": [str(tree_dir / "a")],
                "grouper": "directory",
            },
            {
                "repo_type": "local",
                "eid": None,
                "dir_paths": [str(tree_dir / "b")],
                "grouper": "file_is_group",
            },
        ],
        "tokens": {"Transfer": "t", "Authorization": f"Bearer {service.token}", "FuncX": "f"},
    }
    resp = requests.post(service.url + "/crawl", json=body, timeout=10)
    assert resp.status_code == 200
    ids = resp.json()["crawl_ids"]
    assert resp.json()["crawl_id"] == ids[0] and len(ids) == 2
    counts = [wait_complete(service, cid, service.token)["files_crawled"] for cid in ids]
    assert counts == [30, 40]
    # POST works as well as GET for the status and flush routes
    r = requests.post(
        service.url + "/fetch_crawl_mdata",
        json={"crawl_id": ids[1], "n": 1000, "Authorization": service.token},
        timeout=10,
    )
    assert r.json()["num_files"] == 40 and r.json()["queue_empty"] is True


def test_legacy_routes_refuse_missing_token_and_bad_bodies(
    service: Service, tree_dir: Path
) -> None:
    r = requests.post(
        service.url + "/crawl", json={"repo_type": "local", "dir_path": str(tree_dir)}, timeout=10
    )
    assert r.status_code == 401
    r = requests.get(
        service.url + "/get_crawl_status", json={"Authorization": service.token}, timeout=10
    )
    assert r.status_code == 400 and "crawl_id" in r.json()["error"]
    r = requests.post(service.url + "/crawl", data=b"[1, 2", timeout=10)
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    r = requests.post(
        service.url + "/crawl",
        json={"endpoints": [], "tokens": {"Authorization": service.token}},
        timeout=10,
    )
    assert r.status_code == 400 and "non-empty" in r.json()["error"]
    r = requests.post(
        service.url + "/crawl",
        json={
            "repo_type": "GLOBUS",
            "eid": "nope",
            "dir_path": "/~/",
            "Authorization": service.token,
        },
        timeout=10,
    )
    assert r.status_code == 400 and "not an endpoint UUID" in r.json()["error"]


def test_a_crawl_id_is_the_capability_only_while_the_setting_allows(
    service: Service, tree_dir: Path, tmp_path: Path
) -> None:
    """Published clients send no credential on status calls: the crawl id then stands
    for one; with XTRACT_LEGACY_CRAWL_ID_CAPABILITY=false they need a token."""
    make_tree(tree_dir, 5)
    body = {"repo_type": "local", "dir_path": str(tree_dir), "Authorization": service.token}
    cid = requests.post(service.url + "/crawl", json=body, timeout=10).json()["crawl_id"]
    status = wait_complete(service, cid, service.token)
    r = requests.get(service.url + "/get_crawl_status", json={"crawl_id": cid}, timeout=10)
    assert r.status_code == 200 and r.json()["crawl_status"] == status["crawl_status"]

    from tests.support import roots_env

    strict = Service(
        tmp_path / "home",
        env={**roots_env(tree_dir), "XTRACT_LEGACY_CRAWL_ID_CAPABILITY": "false"},
    ).start()
    try:
        body["Authorization"] = strict.token
        cid = requests.post(strict.url + "/crawl", json=body, timeout=10).json()["crawl_id"]
        r = requests.get(strict.url + "/get_crawl_status", json={"crawl_id": cid}, timeout=10)
        assert r.status_code == 401 and r.json()["crawl_id"] == cid
        r = requests.get(
            strict.url + "/get_crawl_status",
            json={"crawl_id": cid, "Authorization": strict.token},
            timeout=10,
        )
        assert r.status_code == 200
    finally:
        strict.stop()
