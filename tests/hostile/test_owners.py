"""Owners inside their bounds, through the real service: an offload folder that tries
to leave its destination, a documents folder swapped for a link after the request was
accepted, a link to a file outside a crawl, the service's own home, and a second owner
who can reach none of the first owner's crawls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from tests.support import Service, flush_all, issue
from xtract_sdk import XtractClient, XtractEndpoint
from xtract_service import keys


def small_tree(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        (root / f"f{i}.txt").write_text(f"some words in file {i}\n")


def post(svc: Service, path: str, body: Any, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or svc.token}"}
    return requests.post(svc.url + path, json=body, headers=headers, timeout=30)


@pytest.fixture
def extracted(service: Service, tree_dir: Path) -> tuple[XtractClient, str]:
    small_tree(tree_dir / "data")
    xtr = service.client()
    xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir / "data")]), progress=False)
    (status,) = xtr.xtract_and_wait(progress=False, timeout=120)
    assert status["xtract_status"] == "COMPLETED"
    return xtr, xtr.crawl_ids[0]


@pytest.mark.parametrize(
    "folder",
    ["/etc/x", "../../etc", "a/b", "x\x00y", ".."],
    ids=["abs", "up", "sub", "nul", "dots"],
)
def test_an_offload_folder_must_be_one_name_inside_the_destination(
    service: Service, extracted: tuple[XtractClient, str], tree_dir: Path, folder: str
) -> None:
    _, cid = extracted
    body = {"format": "family_json", "dest_path": str(tree_dir), "folder": folder}
    resp = post(service, f"/v1/crawls/{cid}/offload", body)
    assert resp.status_code == 400, resp.text
    assert "folder" in resp.json()["error"]["message"]


def test_the_services_own_home_is_never_a_destination(
    service: Service, extracted: tuple[XtractClient, str]
) -> None:
    _, cid = extracted
    for path, body in [
        (f"/v1/crawls/{cid}/offload", {"dest_path": str(service.home)}),
        (f"/v1/crawls/{cid}/xtract", {"local_mdata_path": str(service.home / "redis")}),
        ("/v1/crawls", {"dirs": [str(service.home)]}),
    ]:
        resp = post(service, path, body)
        # refused for the path itself, before any other check could answer instead
        assert resp.status_code == 400, (path, resp.text)
        assert "own home" in resp.json()["error"]["message"], (path, resp.text)


def test_a_documents_folder_swapped_for_a_link_after_the_request_gets_nothing(
    service: Service, tree_dir: Path
) -> None:
    small_tree(tree_dir / "data")
    outside = tree_dir.parent / f"{tree_dir.name}-outside"
    outside.mkdir(exist_ok=True)
    docs = tree_dir / "docs"
    docs.mkdir()
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir / "data")]), progress=False
    )
    accepted = post(service, f"/v1/crawls/{cid}/xtract", {"local_mdata_path": str(docs)})
    assert accepted.status_code == 202
    docs.rmdir()
    docs.symlink_to(outside)  # the swap, after the 202
    deadline = time.monotonic() + 60
    while xtr.get_xtract_status(cid)["xtract_status"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert list(outside.iterdir()) == []
    status = xtr.get_xtract_status(cid)
    assert status["xtract_status"] == "FAILED" and "symbolic link" in status["message"]


def test_a_link_to_a_file_outside_the_crawl_is_neither_listed_nor_read(
    service: Service, tree_dir: Path
) -> None:
    small_tree(tree_dir / "data")
    secret = tree_dir / "secret-shadow"
    secret.write_text("root:$6$salt$hash:19000:0:99999:7:::\n")
    (tree_dir / "data" / "shadow.txt").symlink_to(secret)
    xtr = service.client()
    xep = XtractEndpoint("local", dirs=[str(tree_dir / "data")], follow_symlinks=True)
    (cid,) = xtr.crawl_and_wait(xep, progress=False)
    paths = {f["path"] for f in flush_all(xtr, cid)}
    assert str(tree_dir / "data" / "shadow.txt") not in paths and len(paths) == 3
    errors = xtr.get_crawl_status(cid)["data"]["error_samples"]
    assert any("outside the crawl" in e["error"] for e in errors)
    (status,) = xtr.xtract_and_wait(progress=False, timeout=120)
    assert status["xtract_status"] == "COMPLETED"
    assert "$6$" not in repr(list(xtr.metadata(cid)))


def test_a_second_owner_reaches_none_of_the_first_owners_crawls(
    service: Service, extracted: tuple[XtractClient, str], tree_dir: Path
) -> None:
    _, cid = extracted
    (tree_dir / "bobs").mkdir()
    bob = issue(service, "bob-with-roots", tree_dir / "bobs")
    headers = {"Authorization": f"Bearer {bob}"}
    for method, path, body in [
        ("GET", f"/v1/crawls/{cid}", None),
        ("DELETE", f"/v1/crawls/{cid}", None),
        ("POST", f"/v1/crawls/{cid}/flush", {"first_n_files": 1}),
        ("GET", f"/v1/crawls/{cid}/events", None),
        ("POST", f"/v1/crawls/{cid}/xtract", {}),
        ("GET", f"/v1/crawls/{cid}/xtract", None),
        ("POST", f"/v1/crawls/{cid}/xtract/retry", {}),
        ("POST", f"/v1/crawls/{cid}/xtract/clear", {}),
        ("GET", f"/v1/crawls/{cid}/metadata", None),
        ("POST", f"/v1/crawls/{cid}/offload", {}),
        ("GET", f"/v1/crawls/{cid}/offload", None),
        ("POST", f"/v1/crawls/{cid}/search", {"index_id": cid}),
        ("POST", f"/v1/crawls/{cid}/webhooks", {"urls": ["https://example.org/x"]}),
        ("GET", f"/v1/crawls/{cid}/webhooks", None),
        ("POST", "/get_crawl_status", {"crawl_id": cid}),
        ("POST", "/fetch_crawl_mdata", {"crawl_id": cid}),
        ("POST", "/get_extract_status", {"crawl_id": cid}),
    ]:
        resp = requests.request(method, service.url + path, json=body, headers=headers, timeout=30)
        assert resp.status_code == 404, (method, path, resp.status_code, resp.text)
    assert cid not in {
        c["crawl_id"] for c in XtractClient(base_url=service.url, token=bob).list_crawls()
    }
    # bob reaches his own folder and nothing else
    assert post(service, "/v1/crawls", {"dirs": [str(tree_dir / "bobs")]}, bob).status_code == 202
    refused = post(service, "/v1/crawls", {"dirs": [str(tree_dir / "data")]}, bob)
    assert refused.status_code == 400 and "allowed roots" in refused.text


def test_an_issued_owner_name_is_checked(service: Service) -> None:
    args = [sys.executable, "-m", "xtract_service.cli", "token", "issue", "../evil"]
    out = subprocess.run(args, env=service.full_env(), capture_output=True, text=True)
    assert out.returncode == 2 and "owner name" in out.stderr
    assert os.path.exists(service.home / "token")


def test_an_owner_forgets_a_finished_crawl_and_it_is_gone(
    service: Service, extracted: tuple[XtractClient, str]
) -> None:
    xtr, cid = extracted
    assert xtr.forget_crawl(cid) == {"crawl_id": cid, "forgotten": True}
    resp = requests.get(
        f"{service.url}/v1/crawls/{cid}",
        headers={"Authorization": f"Bearer {service.token}"},
        timeout=10,
    )
    assert resp.status_code == 404
    assert cid not in {c["crawl_id"] for c in xtr.list_crawls()}
    assert not (service.home / "metadata" / cid).exists()


def test_a_catastrophic_regex_filter_runs_in_linear_time_and_exports_are_private(
    service: Service, tree_dir: Path
) -> None:
    data = tree_dir / "data"
    small_tree(data)
    (data / ("a" * 60 + ".txt")).write_text("a file whose name a backtracking regex chokes on\n")
    xtr = service.client()
    xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(data)]), progress=False)
    (status,) = xtr.xtract_and_wait(progress=False, timeout=120)
    assert status["xtract_status"] == "COMPLETED"
    cid = xtr.crawl_ids[0]
    dest = tree_dir / "exports"
    dest.mkdir()
    # (a+)+$ on "aaa...a.txt": exponential for a backtracking engine (the old offload
    # worker froze on it, for every owner), linear for RE2
    filters = [{"field": "path", "op": "regex", "value": "(a+)+$", "action": "drop"}]
    folder = xtr.offload_metadata(
        dest_path=str(dest), crawl_ids=[cid], format="jsonl", filters=filters
    )
    out = Path(folder) / cid
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["items"] == 4  # nothing ends in a's, so nothing was dropped
    for path in [out, *out.iterdir()]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_the_crawl_id_alone_never_consumes_what_the_owners_flush_is_owed(
    service: Service, tree_dir: Path
) -> None:
    """A published client sends no credential to fetch_crawl_mdata, so the crawl id is
    its capability; whoever else learned the id (a sharee, a reader of an export) gets
    a cursor of its own and cannot drain the owner's flush."""
    small_tree(tree_dir / "data")
    xtr = service.client()
    (cid,) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(tree_dir / "data")]), progress=False
    )
    taken = requests.get(
        service.url + "/fetch_crawl_mdata", json={"crawl_id": cid, "n": 1000}, timeout=10
    ).json()
    assert taken["num_files"] == 3  # the capability still reads, once, for itself
    again = requests.get(
        service.url + "/fetch_crawl_mdata", json={"crawl_id": cid, "n": 1000}, timeout=10
    ).json()
    assert again["num_files"] == 0 and again["queue_empty"]
    assert len(flush_all(xtr, cid)) == 3  # the owner's own flush lost nothing


def test_a_since_crawls_status_names_its_base_to_the_owner_only(
    service: Service, tree_dir: Path
) -> None:
    """Whoever holds a since crawl's id (the published status route needs no credential)
    must not learn the id of the crawl it compared with: that id would read it too."""
    small_tree(tree_dir / "data")
    xtr = service.client()
    endpoint = XtractEndpoint("local", dirs=[str(tree_dir / "data")])
    (base,) = xtr.crawl_and_wait(endpoint, progress=False)
    (cid,) = xtr.crawl_and_wait(endpoint, progress=False, since=base)
    assert xtr.get_crawl_status(cid)["data"]["changes"]["since"] == base
    seen = requests.get(
        service.url + "/get_crawl_status", json={"crawl_id": cid}, timeout=10
    ).json()
    assert seen["changes"]["unchanged"] == 3  # the counts, yes
    assert base not in json.dumps(seen)


def test_crawls_started_at_once_cannot_slip_past_the_running_quota(
    r: redis.Redis, tmp_path: Path
) -> None:
    """Sixty crawls started at the same moment by one owner with a quota of twenty:
    exactly twenty are created, the rest refused with the quota's message."""
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    from xtract_service.crawl.spec import CrawlSpec
    from xtract_service.crawl.store import CrawlStore
    from xtract_service.errors import TooMany
    from xtract_service.quotas import check_crawl_quota
    from xtract_service.settings import Settings

    settings = Settings(home=tmp_path / "home", max_running_crawls=20, max_stored_crawls=1000)
    store = CrawlStore(r)
    admit = partial(check_crawl_quota, r, "mallory", settings)

    def start(_: int) -> str:
        try:
            return store.create(CrawlSpec(dirs=["/data"]), "mallory", admit=admit)
        except TooMany as exc:
            return f"refused: {exc}"

    with ThreadPoolExecutor(60) as pool:
        answers = list(pool.map(start, range(60)))
    created = [a for a in answers if not a.startswith("refused")]
    assert len(created) == 20, len(created)
    assert all("the most at once" in a for a in answers if a.startswith("refused"))
    assert r.zcard(keys.owner_crawls("mallory")) == 20


def test_search_entries_are_never_public_unless_asked(
    service: Service, extracted: tuple[XtractClient, str]
) -> None:
    """Search entries carry crawl ids and paths: without visible_to they are the
    owner's (a Globus identity's); an owner who is no Globus identity must say who may
    see them."""
    from xtract_service.access import Access
    from xtract_service.offload.start import OffloadRequest, validate_request
    from xtract_service.settings import Settings

    _, cid = extracted
    r = post(service, f"/v1/crawls/{cid}/search", {"index_id": str(uuid.uuid4())})
    assert r.status_code == 400 and "visible_to" in r.json()["error"]["message"]
    identity = str(uuid.uuid4())  # a Globus identity, as owners are under Globus Auth
    req = OffloadRequest(format="globus_search", move="search", index_id=str(uuid.uuid4()))
    validate_request(req, Access(identity, (), "/home"), Settings(home=service.home))
    assert req.format_params["visible_to"] == [f"urn:globus:auth:identity:{identity}"]
