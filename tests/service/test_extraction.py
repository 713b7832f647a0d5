"""Extraction through the SDK against the real service (local executor): a mixed
corpus of every supported kind plus hostile files, end to end."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import Service, all_documents, by_path, make_tree, roots_env
from xtract_sdk import BadRequestError, NotFoundError, XtractEndpoint


def crawl(service: Service, path: Path, grouper: str = "file_is_group", **kw: Any) -> tuple:
    xtr = service.client()
    ((cid, status),) = xtr.crawl_and_wait(
        XtractEndpoint("local", dirs=[str(path)], grouper=grouper, **kw), progress=False
    ).items()
    return xtr, cid, status


def test_mixed_corpus_every_file_has_metadata_or_an_error_record(
    service: Service, corpus: Path
) -> None:
    xtr, cid, crawled = crawl(service, corpus)
    (final,) = xtr.xtract_and_wait(progress=False, timeout=240)
    assert final["xtract_status"] == "COMPLETED", final
    files = crawled["data"]["files_crawled"]
    c = final["xtract_counters"]
    assert c["cumu_pulled"] == c["cumu_scheduled"] == c["fx"]["success"] == files
    assert c["fx"]["failed"] == 0 and c["fx"]["pending"] == 0 and c["cumu_to_schedule"] == 0
    assert final["files_extracted"] == files

    docs = all_documents(xtr, cid)
    assert len(docs) == len({d["family_id"] for d in docs}) == files
    found = by_path(docs)
    on_disk = {str(p) for p in corpus.rglob("*") if p.is_file()}
    assert set(found) == on_disk
    for path, f in found.items():
        content = set(f["metadata"]) - {"filetype"}
        assert content or f["errors"] or f["unknown"], path
    assert c["flagged_unknown"] == sum(f["unknown"] for f in found.values())

    # true values, read back through the service
    good = corpus / "good"
    assert found[str(good / "table.csv")]["metadata"]["tabular"]["rows"] == 100
    assert found[str(good / "photo.jpg")]["metadata"]["images"]["width"] == 64
    assert set(found[str(good / "climate.nc")]["metadata"]["netcdf"]["variables"]) == {
        "temperature",
        "lat",
    }
    laughs = found[str(corpus / "hostile" / "laughs.xml")]["errors"]
    assert laughs == [
        {"extractor": "jsonxml", "error": "xml_entities_forbidden", "message": laughs[0]["message"]}
    ]

    # one JSON document per family on disk, the same as the service holds
    out = Path(final["local_mdata_path"])
    written = sorted(out.glob("*.json"))
    assert len(written) == files
    sample = json.loads(written[0].read_text())
    assert sample["family_id"] in {d["family_id"] for d in docs}
    assert sample["crawl_id"] == cid and sample["executor"] == "local"


def test_extraction_starts_while_the_crawl_still_runs(service: Service, tree_dir: Path) -> None:
    tree = make_tree(tree_dir, 3000, fanout=6, depth=3)
    xtr = service.client()
    (cid,) = xtr.crawl(XtractEndpoint("local", dirs=[str(tree_dir)]))
    crawl_state = xtr.get_crawl_status(cid)["status"]
    xtr.xtract(cid, extractors=[])  # only filetype: fast
    statuses = None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        statuses = xtr.get_xtract_status(cid)
        if statuses["xtract_status"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.2)
    assert statuses and statuses["xtract_status"] == "COMPLETED"
    assert crawl_state in ("initializing", "crawling")
    assert statuses["xtract_counters"]["fx"]["success"] == len(tree)
    assert statuses["files_extracted"] == len(tree)


def test_directory_families_carry_all_their_files(service: Service, corpus: Path) -> None:
    xtr, cid, _ = crawl(service, corpus / "good", grouper="directory")
    (final,) = xtr.xtract_and_wait(progress=False, timeout=240)
    assert final["xtract_status"] == "COMPLETED"
    (doc,) = all_documents(xtr, cid)
    assert len(doc["files"]) == 14 and len(doc["metadata"]) == 14
    assert doc["extractors"]["filetype"]["files"] == 14


def test_metadata_pages_hand_out_each_document_once(service: Service, corpus: Path) -> None:
    xtr, cid, crawled = crawl(service, corpus / "good")
    xtr.xtract_and_wait(progress=False, timeout=240, extractors=[])
    seen = Counter(d["family_id"] for d in all_documents(xtr, cid, page=3))
    assert len(seen) == crawled["data"]["files_crawled"]
    assert set(seen.values()) == {1}


def test_bad_extraction_requests_are_refused(service: Service, corpus: Path) -> None:
    xtr, cid, _ = crawl(service, corpus / "good")
    url = f"{service.url}/v1/crawls/{cid}/xtract"
    auth = {"Authorization": f"Bearer {service.token}"}

    def post(body: dict) -> tuple[int, str]:
        r = requests.post(url, json=body, headers=auth, timeout=10)
        return r.status_code, r.json()["error"]["message"] if r.status_code >= 400 else ""

    assert post({"executor": "slurm"}) == (
        400,
        "unknown executor 'slurm'; use one of local, parsl, globus-compute",
    )
    code, msg = post({"extractors": ["tabular", "nope"]})
    assert code == 400 and "unknown extractor 'nope'" in msg
    code, msg = post({"params": {"tabular": {"max_rows": "lots"}}})
    assert code == 400 and "parameter 'max_rows' of extractor 'tabular' must be integer" in msg
    code, msg = post({"params": {"tabular": {"colour": 1}}})
    assert code == 400 and "has no parameter 'colour'" in msg
    code, msg = post({"executor": "globus-compute"})
    assert code == 400 and "needs funcx_ep_id" in msg
    code, msg = post({"executor": "globus-compute", "funcx_ep_id": "nope"})
    assert code == 400 and "'nope' is not an endpoint UUID" in msg
    code, msg = post({"local_mdata_path": "/etc/xtract"})
    assert code == 400 and "outside the allowed roots" in msg
    with pytest.raises(NotFoundError):
        xtr.xtract("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundError, match="has no extraction"):
        xtr.get_xtract_status(cid)
    assert xtr.xtract(cid, extractors=[]) == 200
    with pytest.raises(BadRequestError, match="already has an extraction"):
        xtr.xtract(cid)
    r = requests.get(
        f"{service.url}/v1/crawls/{cid}/metadata?after=garbage", headers=auth, timeout=10
    )
    assert r.status_code == 400 and "bad cursor" in r.json()["error"]["message"]


def test_extractors_are_listed_by_the_service(service: Service) -> None:
    names = {e["name"] for e in service.client().list_extractors()}
    assert {
        "tabular",
        "keyword",
        "images",
        "jsonxml",
        "hdf5",
        "netcdf",
        "python",
        "c_code",
        "pdf",
        "filetype",
    } <= names


def test_legacy_extract_routes(service: Service, corpus: Path) -> None:
    _, cid, crawled = crawl(service, corpus / "good")
    r = requests.post(
        f"{service.url}/extract",
        json={
            "crawl_id": cid,
            "tokens": {"Authorization": f"Bearer {service.token}"},
            "local_mdata_path": None,
        },
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["crawl_id"] == cid
    deadline = time.monotonic() + 180
    while True:
        s = requests.get(
            f"{service.url}/get_extract_status",
            json={"crawl_id": cid, "Authorization": service.token},
            timeout=10,
        ).json()
        if s["xtract_status"] == "COMPLETED" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert s["xtract_status"] == "COMPLETED" and s["status"] == "COMPLETED"
    assert s["counters"] == s["xtract_counters"]
    assert set(s["xtract_counters"]) == {
        "cumu_orch_enter",
        "cumu_pulled",
        "cumu_scheduled",
        "cumu_to_schedule",
        "flagged_unknown",
        "fx",
    }
    assert s["xtract_counters"]["fx"]["success"] == crawled["data"]["files_crawled"]
    ep = "2f8b8f7c-2d4b-4c59-8c5e-2b7a1b0c9d11"
    r = requests.post(
        f"{service.url}/config_containers",
        json={
            "fx_eid": ep,
            "container_path": "/home/u/containers",
            "Authorization": service.token,
        },
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["status"] == 200
    assert r.json()["containers"]["images"] == "/home/u/containers/xtract-images.sif"


@pytest.fixture
def orchestrator_free(data_root: Path, tmp_path: Path) -> Iterator[Service]:
    env = {**roots_env(data_root), "XTRACT_ORCHESTRATORS": "0", "XTRACT_EXTRACT_BATCH_FILES": "4"}
    with Service(tmp_path / "home", env=env) as svc:
        yield svc


def test_an_orchestrator_killed_mid_run_loses_nothing_and_repeats_nothing(
    orchestrator_free: Service, corpus: Path, tree_dir: Path
) -> None:
    for i in range(12):  # enough work to be interrupted: keyword is the slow one
        shutil.copytree(corpus / "good", tree_dir / f"copy{i}")
    svc = orchestrator_free
    xtr, cid, crawled = crawl(svc, tree_dir)
    files = crawled["data"]["files_crawled"]
    xtr.xtract(cid)
    a = svc.worker("orchestrator")
    try:
        deadline = time.monotonic() + 120
        while xtr.get_xtract_status(cid)["xtract_counters"]["fx"]["success"] < 20:
            assert time.monotonic() < deadline and a.poll() is None
            time.sleep(0.05)
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
    finally:
        if a.poll() is None:
            a.kill()
    mid = xtr.get_xtract_status(cid)
    assert mid["xtract_status"] != "COMPLETED"
    b = svc.worker("orchestrator")
    try:
        deadline = time.monotonic() + 240
        while (s := xtr.get_xtract_status(cid))["xtract_status"] not in ("COMPLETED", "FAILED"):
            assert time.monotonic() < deadline, s
            time.sleep(0.2)
    finally:
        b.terminate()
        b.wait(30)
    assert s["xtract_status"] == "COMPLETED"
    assert s["xtract_counters"]["fx"]["success"] == files
    docs = all_documents(xtr, cid)
    assert len(docs) == len({d["family_id"] for d in docs}) == files
    assert len(list(Path(s["local_mdata_path"]).glob("*.json"))) == files
